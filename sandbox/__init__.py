"""Local stand-ins for the outside world (Telegram, Pakasir, a demo shop).

Nothing in here imports the bot: these packages play the parts the bot talks to.
"""
