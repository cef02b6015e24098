"""All peewee models. Importing this package must not import Flask (tested)."""

from webapp.models.auth import (
    TFA_ACTIVE,
    TFA_DISABLED,
    TFA_INACTIVE,
    EmailChange,
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
from webapp.models.exchange import (
    DEPLOYMENT_KINDS,
    DEPLOYMENT_OPEN,
    DEPLOYMENT_STATUSES,
    ORDER_OPEN,
    ORDER_STATUSES,
    SLOTS,
    TICKET_CLOSED,
    TICKET_OPEN,
    Attachment,
    CreditLimit,
    Deployment,
    DeploymentEvent,
    Invoice,
    Notification,
    NumberSequence,
    Order,
    Payment,
    StaffCode,
    StaffTrustedBrowser,
    StaffUser,
    Ticket,
    TicketMessage,
)
from webapp.models.history import CallLogEntry
from webapp.models.lines import (
    AUDIO_FORMATS,
    AUDIO_KINDS,
    RULES,
    TARGET_LINE,
    TARGET_NONE,
    TARGET_NUMBER,
    TARGET_VOICEMAIL,
    AudioFile,
    ForwardingProfile,
    VoicemailSettings,
)
from webapp.models.mail import MAIL_FAILED, MAIL_QUEUED, MAIL_SENT, OutboundEmail
from webapp.models.welcome import (
    PAUSE_REASONS,
    PROFILE_TYPES,
    QUEUE_MODES,
    CallbackMark,
    PauseReason,
    StatsSubscription,
    WelcomeLine,
    WelcomeMenuKey,
    WelcomeProfile,
    WelcomeTimeRule,
)

__all__ = [
    "TFA_ACTIVE", "TFA_DISABLED", "TFA_INACTIVE", "LICENCE_PRODUCTS", "SERVICE_KINDS",
    "MAIL_FAILED", "MAIL_QUEUED", "MAIL_SENT",
    "Account", "AuditEvent", "Contact", "EmailChange", "Licence", "OneTimeCode",
    "OutboundEmail", "PasswordToken", "Role", "RoleSite", "Service", "ServiceContact", "Site",
    "TrustedBrowser", "User", "UserRole", "utcnow",
    # exchange
    "DEPLOYMENT_KINDS", "DEPLOYMENT_OPEN", "DEPLOYMENT_STATUSES", "ORDER_OPEN", "ORDER_STATUSES",
    "SLOTS", "TICKET_CLOSED", "TICKET_OPEN", "Attachment", "CreditLimit", "Deployment",
    "DeploymentEvent", "Invoice", "Notification", "NumberSequence", "Order", "Payment",
    "StaffCode",
    "StaffTrustedBrowser", "StaffUser", "Ticket", "TicketMessage",
    # directory
    "PHONE_MODELS", "Equipment", "SoftphoneCredential",
    # lines
    "AUDIO_FORMATS", "AUDIO_KINDS", "RULES", "TARGET_LINE", "TARGET_NONE",
    "TARGET_NUMBER", "TARGET_VOICEMAIL", "AudioFile", "ForwardingProfile", "VoicemailSettings",
    # welcome numbers
    "PROFILE_TYPES", "QUEUE_MODES", "CallLogEntry", "WelcomeLine", "WelcomeMenuKey",
    "WelcomeProfile", "WelcomeTimeRule",
    # switchboard
    "PAUSE_REASONS", "CallbackMark", "PauseReason", "StatsSubscription",
]

ALL_MODELS = [
    Account, Site, Contact, Service, ServiceContact, Licence, AuditEvent,
    User, Role, RoleSite, UserRole, TrustedBrowser, OneTimeCode, PasswordToken, EmailChange,
    OutboundEmail,
    StaffUser, StaffCode, StaffTrustedBrowser, Deployment, DeploymentEvent, Ticket,
    TicketMessage, Attachment, Order, Invoice, Payment, CreditLimit, Notification, NumberSequence,
    Equipment, SoftphoneCredential,
    AudioFile, ForwardingProfile, VoicemailSettings,
    WelcomeProfile, WelcomeLine, WelcomeMenuKey, WelcomeTimeRule, CallLogEntry,
    PauseReason, CallbackMark, StatsSubscription,
]
