"""A Pakasir API emulator: the payment gateway QuickCart uses, with switchable failures."""

from sandbox.pakasir.emulator import Mode, PakasirConfig, PakasirEmulator, create_app

__all__ = ["Mode", "PakasirConfig", "PakasirEmulator", "create_app"]
