"""The forms; Flask-WTF adds and checks the CSRF token on each of them."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, RadioField, StringField
from wtforms.validators import EqualTo, InputRequired, Length, Regexp

from .passwords import NotGuessable

# Every field has a maximum, checked before any hashing: a 600 KB password costs nothing.
PASSWORD_MIN, PASSWORD_MAX = 12, 128
USERNAME_MAX = 32


def _strip(value: str | None) -> str | None:
    return value.strip() if value else value


class RegisterForm(FlaskForm):
    username = StringField(
        "Username",
        filters=[_strip],
        validators=[
            InputRequired("Choose a username."),
            # ASCII only: look-alike letters from other scripts cannot impersonate a user.
            Regexp(
                rf"^[A-Za-z0-9._-]{{3,{USERNAME_MAX}}}$",
                message="Use 3 to 32 letters, digits, dots, underscores or hyphens.",
            ),
        ],
    )
    # Length and guessability, no composition rules: those make passwords weaker, not stronger.
    password = PasswordField(
        "Password",
        validators=[
            InputRequired("Choose a password."),
            Length(
                PASSWORD_MIN,
                PASSWORD_MAX,
                f"Use {PASSWORD_MIN} to {PASSWORD_MAX} characters; any characters will do.",
            ),
            NotGuessable(username_field="username"),
        ],
    )
    confirm = PasswordField(
        "Confirm password",
        validators=[
            InputRequired("Type the password again."),
            EqualTo("password", "The two passwords differ."),
        ],
    )


class LoginForm(FlaskForm):
    # No account has a longer name or password, so longer input fails without a hash check.
    username = StringField(
        "Username", filters=[_strip], validators=[InputRequired(), Length(max=USERNAME_MAX)]
    )
    password = PasswordField("Password", validators=[InputRequired(), Length(max=PASSWORD_MAX)])
    remember = BooleanField("Remember me")


class ThemeForm(FlaskForm):
    theme = RadioField(
        "Theme",
        choices={"light": "Light", "dark": "Dark"},
        validators=[InputRequired("Pick Light or Dark.")],
    )
    lifetime = RadioField(
        "Keep it for",
        choices={
            "session": "Until the browser closes",
            "minute": "1 minute",
            "day": "1 day",
            "year": "1 year",
        },
        default="session",
        validators=[InputRequired("Pick how long to keep it.")],
    )


class NoteForm(FlaskForm):
    # Short: the session travels in a cookie, and browsers drop cookies over about 4 KB.
    note = StringField(
        "Note",
        filters=[_strip],
        validators=[
            InputRequired("Type a note first."),
            Length(max=200, message="Keep the note to 200 characters."),
        ],
    )
