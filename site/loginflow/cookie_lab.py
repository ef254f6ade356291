"""The cookie lab at /cookies: the cookie and session API, made visible.

Each action uses exactly the call a reader is learning: ``response.set_cookie(...,
max_age=...)``, ``request.cookies.get``, ``response.delete_cookie``, ``session[key] =
value``, ``session.get(key, default)``, ``session.pop(key, None)`` and ``session.clear()``.
"""

from typing import Any

from flask import (
    Blueprint,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from . import remember, sign_ins
from .forms import NoteForm, ThemeForm
from .session_reader import read_session_cookie, shorten

bp = Blueprint("lab", __name__, url_prefix="/cookies")

THEME_COOKIE = "theme"
THEMES = ("light", "dark")
# "Keep it for": None makes a session cookie, gone when the browser closes.
LIFETIMES: dict[str, int | None] = {
    "session": None,
    "minute": 60,
    "day": 24 * 60 * 60,
    "year": 365 * 24 * 60 * 60,
}
# The lab's answer to the last button pressed, kept in the session for the next page, like
# a flash; but a flash shows at the top of the page, and this shows in the section used.
RESULT_KEY = "lab_result"
# What each session key is, for the legend under the decoded session.
SESSION_KEYS = {
    "_user_id": "The session token of your sign-in: Flask-Login keeps it here, and the "
    "server looks your sign-in up by it on every request.",
    "_fresh": "True if you typed your password in this browser session, recently; false "
    "when the remember cookie brought your sign-in back, or once that was a while ago.",
    "_fresh_at": "When you typed your password, in seconds since 1970 (UTC).",
    "_id": "Flask-Login's fingerprint of this browser, a hash of its IP address and user "
    "agent; this site does not check it (a network change would sign you out).",
    "_flashes": "Messages waiting for the next page, which shows them once.",
    "csrf_token": "The forms' CSRF token: each form sends it back, so that another site "
    "cannot send them in your name.",
    "note": "Yours: the note you saved in this lab.",
    RESULT_KEY: "This lab's answer to the button you pressed, shown once in its section.",
}

SHOWN_COOKIE_CHARS = 64
SHOWN_COOKIES = 20  # of however many the browser sent, this site's own first


@bp.app_context_processor
def theme() -> dict[str, str]:
    """Every page gets the theme from the cookie, so the cookie has a purpose."""
    chosen = request.cookies.get(THEME_COOKIE)
    return {"theme": chosen if chosen in THEMES else "light"}


@bp.get("/")
def show() -> str:
    """The lab: cookies sent, the session decoded, and forms to change both."""
    return _render()


@bp.post("/theme")
def save_theme() -> ResponseReturnValue:
    """Set the theme cookie with the chosen lifetime."""
    form = ThemeForm()
    if not form.validate():
        return _render(theme_form=form), 422
    response = _back_to("theme", keep=form.lifetime.data)
    response.set_cookie(
        THEME_COOKIE,
        form.theme.data,
        max_age=LIFETIMES[form.lifetime.data],
        **_theme_cookie_attributes(),
    )
    _answer("theme", f"Sent: Set-Cookie: {response.headers['Set-Cookie']}", "success")
    return response


@bp.post("/theme/delete")
def delete_theme() -> ResponseReturnValue:
    """Delete the theme cookie: the same name and path, with an expiry in the past."""
    response = _back_to("theme")
    response.delete_cookie(THEME_COOKIE, **_theme_cookie_attributes())
    _answer("theme", f"Sent: Set-Cookie: {response.headers['Set-Cookie']}", "success")
    return response


@bp.post("/note")
def save_note() -> ResponseReturnValue:
    """Keep a note in the session: ``session["note"] = text``."""
    form = NoteForm()
    if not form.validate():
        return _render(note_form=form), 422
    session["note"] = form.note.data
    _answer("session-note", 'Saved: session["note"] = the text you typed.', "success")
    return _back_to("session-note")


@bp.post("/note/remove")
def remove_note() -> ResponseReturnValue:
    """Remove the note: ``session.pop("note", None)`` is quiet when there is none."""
    removed = session.pop("note", None)
    said = "Removed the note." if removed is not None else "There was no note to remove."
    _answer("session-note", said, "info")
    return _back_to("session-note")


@bp.post("/clear")
def clear_session() -> ResponseReturnValue:
    """``session.clear()``: after a warning when a sign-in would be lost with it."""
    had_sign_in = sign_ins.current_or_none() is not None
    if had_sign_in and request.form.get("confirm") != "yes":
        had_remember_cookie = remember.cookie_name() in request.cookies
        return render_template("clear_session.html", had_remember_cookie=had_remember_cookie)
    session.clear()
    # The next page cannot tell from the emptied session whether a sign-in was in it.
    said = {"cleared": 1, "had_sign_in": 1} if had_sign_in else {"cleared": 1}
    return _back_to("clear", **said)


def _back_to(section: str, **args: Any) -> Response:
    """Back to the lab, at ``section``: on a phone the lab is long, and its top far away."""
    return redirect(url_for("lab.show", _anchor=section, **args))


def _answer(section: str, text: str, kind: str) -> None:
    """Say on the next page, in ``section``, what the button did (see RESULT_KEY)."""
    session[RESULT_KEY] = {"section": section, "kind": kind, "text": text}


def _theme_cookie_attributes() -> dict[str, Any]:
    """One set of attributes for setting and deleting: browsers match a deletion on them."""
    return {
        "path": "/",
        "samesite": "Lax",
        "secure": current_app.config["SESSION_COOKIE_SECURE"],
        "httponly": False,  # on purpose: the lab shows page scripts reading it
    }


def _render(theme_form: ThemeForm | None = None, note_form: NoteForm | None = None) -> str:
    session_cookie = request.cookies.get(current_app.config["SESSION_COOKIE_NAME"])
    # A browser sends back a cookie's value, never its Max-Age, so the lifetime the theme
    # was just saved with comes in the redirect's query: the form shows what was chosen,
    # not "Until the browser closes" again.
    keep = request.args.get("keep")
    if theme_form is None:
        theme_form = ThemeForm(theme=request.cookies.get(THEME_COOKIE, "light"))
        if keep in LIFETIMES:
            theme_form.lifetime.data = keep
    return render_template(
        "cookies.html",
        sent=[_describe(name, value) for name, value in _cookies_to_show()],
        session_view=read_session_cookie(session_cookie, SESSION_KEYS) if session_cookie else None,
        theme_cookie=request.cookies.get(THEME_COOKIE),
        note=session.get("note", "(no note yet)"),
        theme_form=theme_form,
        note_form=note_form or NoteForm(),
        result=session.pop(RESULT_KEY, None),
        cleared="cleared" in request.args,
        had_sign_in="had_sign_in" in request.args,
        restored_now=g.get("restored_sign_in") is not None,
        remember_cookie_sent=remember.cookie_name() in request.cookies,
    )


def _cookies_to_show() -> list[tuple[str, str]]:
    config = current_app.config
    own = (config["SESSION_COOKIE_NAME"], config["REMEMBER_ME_COOKIE_NAME"], THEME_COOKIE)
    ranked = sorted(request.cookies.items(), key=lambda cookie: cookie[0] not in own)
    return ranked[:SHOWN_COOKIES]


def _describe(name: str, value: str) -> dict[str, str]:
    """One row of "Cookies your browser sent"; secrets are cut short, never shown whole."""
    config = current_app.config
    purposes = {
        config["SESSION_COOKIE_NAME"]: "Flask's session: your sign-in, freshness and CSRF token.",
        config["REMEMBER_ME_COOKIE_NAME"]: "Remember me: brings a sign-in back after a restart.",
        THEME_COOKIE: "Your theme preference, set in this lab.",
    }
    if name in (config["SESSION_COOKIE_NAME"], config["REMEMBER_ME_COOKIE_NAME"]):
        value = shorten(value)
    else:
        value = shorten(value, SHOWN_COOKIE_CHARS)  # any site on this host may have set it
    purpose = purposes.get(name, "Not set by this site.")
    return {"name": shorten(name, SHOWN_COOKIE_CHARS), "value": value, "purpose": purpose}
