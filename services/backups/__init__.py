"""QuickCart's backups, in one package: the pg_dump archives on disk and whether each can be
trusted (`archives`), what was verified and restore-tested (`store`, table
backup_verifications), the state /backupstatus and the backups probe show (`status`), and the
daily verification and weekly restore test the maintenance jobs run (`verification`). The
probe itself is services/checks/probes/backups.py, beside the other probes."""
