"""Routes of the foundation: sign-in, password, preferences, account, access (TFA-5)."""

from tests.routes import ALLOWED, Route

PUBLIC = dict(anonymous=ALLOWED, admin=ALLOWED, restricted=ALLOWED, other=ALLOWED)

ROUTES = [
    Route("auth.login", **PUBLIC),
    Route("auth.login", "POST", **PUBLIC),
    Route("auth.verify", **PUBLIC),
    Route("auth.verify", "POST", **PUBLIC),
    Route("auth.send_code", "POST", **PUBLIC),
    Route("auth.logout", "POST", **PUBLIC),
    Route("auth.forgot", **PUBLIC),
    Route("auth.forgot", "POST", **PUBLIC),
    Route("auth.password_link", args=lambda d: {"token": "nope"}, **PUBLIC),
    Route("auth.define_password", **PUBLIC),
    Route("auth.define_password", "POST", **PUBLIC),
    Route("auth.password_done", **PUBLIC),
    Route("auth.confirm_email", args=lambda d: {"token": "nope"}, **PUBLIC),
    Route("auth.confirm_email", "POST", args=lambda d: {"token": "nope"}, **PUBLIC),
    Route("auth.set_language", "POST", **PUBLIC),
    Route("main.health", **PUBLIC),
    Route("main.dashboard"),
    Route("main.account"),
    Route("main.account_timezone", "POST", restricted=403),
    Route("preferences.index"),
    Route("preferences.security"),
    Route("preferences.revoke_browser", "POST", args=lambda d: {"browser_id": 999999}),
    Route("preferences.reactivate", "POST"),
    Route("preferences.confirm_reactivation", "POST"),
    Route("access.users", restricted=403),
    Route("access.user_detail", args=lambda d: {"user_id": d.admin_user_id},
          restricted=403, other=404),
    Route("access.revoke_browser", "POST",
          args=lambda d: {"user_id": d.admin_user_id, "browser_id": 999999},
          restricted=403, other=404),
    Route("access.disable_tfa", "POST", args=lambda d: {"user_id": d.restricted_user_id},
          restricted=403, other=404),
]
