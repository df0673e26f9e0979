"""The e-mail channel: support@… as a door into the desk (IMAP in, SMTP out)."""
