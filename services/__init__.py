"""The domain of QuickCart Ops, free of aiogram."""
