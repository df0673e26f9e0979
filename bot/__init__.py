"""Assembly of QuickCart Ops: settings, CLI, Bot + Dispatcher factory, web app."""
