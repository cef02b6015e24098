"""All peewee models. Importing this package must not import Flask (tested)."""

from webapp.models.auth import (
    TFA_ACTIVE,
    TFA_DISABLED,
    TFA_INACTIVE,
    OneTimeCode,
    PasswordToken,
    Role,
    RoleSite,
    TrustedBrowser,
    User,
    UserRole,
)
from webapp.models.base import utcnow
from webapp.models.core import (
    LICENCE_PRODUCTS,
    SERVICE_KINDS,
    Account,
    AuditEvent,
    Contact,
    Licence,
    Service,
    ServiceContact,
    Site,
)
from webapp.models.directory import PHONE_MODELS, Equipment, SoftphoneCredential
from webapp.models.lines import (
    AUDIO_FORMATS,
    AUDIO_KINDS,
    RULES,
    TARGET_KINDS,
    TARGET_LINE,
    TARGET_NONE,
    TARGET_NUMBER,
    TARGET_VOICEMAIL,
    AudioFile,
    ForwardingProfile,
    VoicemailSettings,
)
from webapp.models.mail import MAIL_FAILED, MAIL_QUEUED, MAIL_SENT, OutboundEmail

__all__ = [
    "TFA_ACTIVE", "TFA_DISABLED", "TFA_INACTIVE", "LICENCE_PRODUCTS", "SERVICE_KINDS",
    "MAIL_FAILED", "MAIL_QUEUED", "MAIL_SENT",
    "Account", "AuditEvent", "Contact", "Licence", "OneTimeCode",
    "OutboundEmail", "PasswordToken", "Role", "RoleSite", "Service", "ServiceContact", "Site",
    "TrustedBrowser", "User", "UserRole", "utcnow",
    # lines (issue 5)
    "AUDIO_FORMATS", "AUDIO_KINDS", "RULES", "TARGET_KINDS", "TARGET_LINE", "TARGET_NONE",
    "TARGET_NUMBER", "TARGET_VOICEMAIL", "AudioFile", "ForwardingProfile", "VoicemailSettings",
    # directory (issue 4)
    "PHONE_MODELS", "Equipment", "SoftphoneCredential",
]

ALL_MODELS = [
    Account, Site, Contact, Service, ServiceContact, Licence, AuditEvent,
    User, Role, RoleSite, UserRole, TrustedBrowser, OneTimeCode, PasswordToken,
    OutboundEmail,
    Equipment, SoftphoneCredential,
    AudioFile, ForwardingProfile, VoicemailSettings,
]
