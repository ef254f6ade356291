"""The ceiling: Flask's quickstart route, with nothing a real page does.

It answers as fast as one Flask worker can answer anything, so a page's ratio to it
says how much of the time goes to the page's own work rather than to Flask and gunicorn.
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    """The quickstart's route: a constant string."""
    return "Hello, World!"
