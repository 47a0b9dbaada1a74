"""SOPS secrets of a homelab repository: ``.sops.yaml`` rules, age keys, encryption through the real sops.

Modules: :mod:`.config` (``.sops.yaml`` parsing and rule matching, pure Python), :mod:`.sops` (the sops
binary: detect, encrypt, decrypt over stdin/stdout), :mod:`.keys` (age keys), :mod:`.ops` (the operations
behind ``homeops secrets``), :mod:`.needed` (what ExternalSecrets expect in the vault), :mod:`.staged`
(the pre-commit check of staged files).
"""
