"""Licensing: passport and licence blobs, the PKCS#11 token, limits and their checks (SPEC §9).

The switch calls a `LicenceManager` (``check_subscribers``, ``admit_call``, ``alarms``); a
`LicenceService` drives it (storage, token polling, clock); `ssw.licence.console` renders the
``/cluster/storage/<CLUSTER>/licence/...`` commands; `ssw.licence.cli` holds the issuer's tools.
"""

from .formats import (
    BadEncoding,
    BadSignature,
    IssuerKey,
    Licence,
    LicenceError,
    Passport,
    TrustedIssuers,
    UnknownIssuer,
    WrongKind,
    decode_blob,
    sign_licence,
    sign_passport,
)
from .manager import (
    DEFAULT_LIMITS,
    AlreadyInstalled,
    CurrentLimits,
    Expired,
    LicenceAlarm,
    LicenceLimit,
    LicenceManager,
    LicensingConfig,
    LicensingDisabled,
    NoSuchLicence,
    PassportMissing,
    TokenMismatch,
    TokenMissing,
    WrongHostname,
    WrongSswId,
)
from .service import (
    LicenceService,
    LicenceStore,
    MemoryLicenceStore,
    load_licensing_config,
    make_licence_service,
)
from .token import Pkcs11Token, TokenError, default_module_path

__all__ = [
    "DEFAULT_LIMITS",
    "AlreadyInstalled",
    "BadEncoding",
    "BadSignature",
    "CurrentLimits",
    "Expired",
    "IssuerKey",
    "Licence",
    "LicenceAlarm",
    "LicenceError",
    "LicenceLimit",
    "LicenceManager",
    "LicenceService",
    "LicenceStore",
    "LicensingConfig",
    "LicensingDisabled",
    "MemoryLicenceStore",
    "NoSuchLicence",
    "Passport",
    "PassportMissing",
    "Pkcs11Token",
    "TokenError",
    "TokenMismatch",
    "TokenMissing",
    "TrustedIssuers",
    "UnknownIssuer",
    "WrongHostname",
    "WrongKind",
    "WrongSswId",
    "decode_blob",
    "default_module_path",
    "load_licensing_config",
    "make_licence_service",
    "sign_licence",
    "sign_passport",
]
