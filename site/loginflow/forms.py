"""The forms; Flask-WTF adds and checks the CSRF token on each of them."""

from collections.abc import Callable

from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, Form, PasswordField, RadioField, StringField
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    Regexp,
    StopValidation,
    ValidationError,
)

from . import sign_ins
from .passwords import NotGuessable

# Every field has a maximum, checked before any hashing: a 600 KB password costs nothing.
PASSWORD_MIN, PASSWORD_MAX = 12, 128
USERNAME_MAX = 32
# The lab's note travels in the session cookie, which browsers drop beyond 4096 bytes. A
# character takes up to 12 bytes of the session's JSON (an emoji: two \u escapes), so 150
# fit beside a signed-in session and its messages even where compression gains nothing.
NOTE_MAX = 150


def _strip(value: str | None) -> str | None:
    return value.strip() if value else value


class PageForm(FlaskForm):
    """A form that knows where the cursor belongs when its page is shown."""

    def focus(self) -> Field:
        """The field to fix first, else the first field.

        Password boxes come back empty after any error (a page never holds a password), so
        from the first of them on, the cursor goes there: it has to be typed again anyway.
        """
        fields = [f for f in self if f.type != "CSRFTokenField"]
        if not self.errors:
            return fields[0]
        failed = next((f for f in fields if f.errors), None)
        for f in fields:
            if f is failed or f.type == "PasswordField":
                return f
        return fields[0]


def entered(field: StringField) -> str:
    """What was typed into ``field`` of a validated form: its InputRequired ensures text."""
    if field.data is None:
        raise ValueError(f"{field.name} holds nothing: validate the form first.")
    return field.data


def add_error(field: Field, message: str) -> None:
    """Show ``message`` under ``field``, for a check the view makes after the form's own."""
    # A new list: WTForms gives a field a list of errors only once it is validated.
    field.errors = [*field.errors, message]


def _new_password_rules(
    username_of: Callable[[Form], str | None],
) -> list[Callable[[Form, StringField], object]]:
    """What a new password must be, on sign-up and on a change alike.

    Length and guessability, no composition rules: those make passwords weaker, not stronger.
    """
    return [
        InputRequired("Choose a password."),
        _length_first(
            Length(
                PASSWORD_MIN,
                PASSWORD_MAX,
                f"Use {PASSWORD_MIN} to {PASSWORD_MAX} characters; any characters will do.",
            )
        ),
        NotGuessable(username_of),
    ]


def _length_first(length: Length) -> Callable[[Form, StringField], None]:
    """``length``, stopping the checks after it: a value of the wrong length gets one
    message, not a second one about what it holds."""

    def check(form: Form, field: StringField) -> None:
        try:
            length(form, field)
        except ValidationError as error:
            raise StopValidation(str(error)) from None

    return check


class RegisterForm(PageForm):
    username = StringField(
        "Username",
        filters=[_strip],
        validators=[
            InputRequired("Choose a username."),
            _length_first(Length(3, USERNAME_MAX, f"Use 3 to {USERNAME_MAX} characters.")),
            # ASCII only: look-alike letters from other scripts cannot impersonate a user.
            Regexp(
                r"^[A-Za-z0-9._-]*$",
                message="Use only the letters a to z, digits, dots, underscores or hyphens.",
            ),
        ],
    )
    password = PasswordField(
        "Password", validators=_new_password_rules(lambda form: form["username"].data)
    )
    confirm = PasswordField(
        "Confirm password",
        validators=[
            InputRequired("Type the password again."),
            EqualTo("password", "The two passwords differ."),
        ],
    )


class SignInForm(PageForm):
    # No account has a longer name or password, so longer input fails without a hash check.
    username = StringField(
        "Username", filters=[_strip], validators=[InputRequired(), Length(max=USERNAME_MAX)]
    )
    password = PasswordField("Password", validators=[InputRequired(), Length(max=PASSWORD_MAX)])
    remember = BooleanField("Remember me")


class ReauthForm(PageForm):
    password = PasswordField(
        "Password", validators=[InputRequired("Type your password."), Length(max=PASSWORD_MAX)]
    )


class ChangePasswordForm(PageForm):
    current_password = PasswordField(
        "Current password",
        validators=[InputRequired("Type your current password."), Length(max=PASSWORD_MAX)],
    )
    new_password = PasswordField(
        "New password",
        validators=_new_password_rules(lambda form: sign_ins.current().user.username),
    )
    confirm = PasswordField(
        "Confirm new password",
        validators=[
            InputRequired("Type the new password again."),
            EqualTo("new_password", "The two new passwords differ."),
        ],
    )

    def validate_new_password(self, field: Field) -> None:
        # A "change" to the same password would sign every other browser out for nothing.
        if field.data == self.current_password.data:
            raise ValidationError("Choose a password different from your current one.")


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
    # Its Length also gives the input its maxlength.
    note = StringField(
        "Note",
        filters=[_strip],
        validators=[
            # DataRequired, not InputRequired: it looks after the strip, so spaces alone fail.
            DataRequired("Type a note first."),
            Length(max=NOTE_MAX, message=f"Keep the note to {NOTE_MAX} characters."),
        ],
    )
