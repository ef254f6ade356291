"""loginflow as pip installs it: a wheel, in a fresh virtual environment, run from elsewhere.

The wheel is built from a copy of the files a release is made of, so a file the package
needs but does not declare fails here, not on a server.
"""

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

# About the package, not the database.
pytestmark = pytest.mark.sqlite_only

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RELEASE_FILES = ["pyproject.toml", "README.md", "LICENSE", "config.py", "site"]
RELEASE_FILES += ["templates", "static"]

# Run by the installed copy, in a folder of its own: every page and every static file, as a
# browser would ask for them, then where the app looked for its files.
VISIT = """
import json, re, sys
import loginflow
from loginflow import create_app


app = create_app()
client = app.test_client()
statuses = {}

def visit(path, expected=200):
    response = client.get(path)
    statuses[path] = [response.status_code, expected]
    response.close()

def send(path, fields, expected, form_page=None):
    page = client.get(form_page or path).text
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    response = client.post(path, data=fields | {"csrf_token": token.group(1)})
    statuses["POST " + path] = [response.status_code, expected]

for path in ["/", "/login", "/register", "/cookies/"] + sys.argv[1:]:
    visit(path)
visit("/no/such/page", 404)
password = "correct horse battery staple"
send("/register", {"username": "alice", "password": password, "confirm": password}, 302)
for path in ["/account", "/account/password", "/reauth"]:
    visit(path)
send("/cookies/clear", {}, 200, "/cookies/")  # the warning page: a sign-in would be lost
print(json.dumps({
    "statuses": statuses,
    "package": loginflow.__file__,
    "instance": app.instance_path,
    "templates": app.jinja_loader.searchpath,
    "static": app.static_folder,
}))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in RELEASE_FILES:
        original = PROJECT_ROOT / name
        if original.is_dir():
            shutil.copytree(original, source / name, symlinks=True)
        else:
            shutil.copy2(original, source / name)
    out = tmp_path_factory.mktemp("dist")
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", out]
    subprocess.run([*build, source], check=True, capture_output=True)
    (built,) = out.glob("loginflow-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment with the wheel installed; its python.

    Its dependencies are this environment's, reached through a .pth file, which adds their
    folder but not the .pth files in it, so the editable loginflow there stays out of sight.
    """
    home = tmp_path_factory.mktemp("venv")
    venv.create(home, with_pip=False)
    python = home / "bin" / "python"
    site_packages = _site_packages(python)
    (site_packages / "dependencies.pth").write_text(_site_packages(Path(sys.executable)).as_posix())
    install = [sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--quiet"]
    subprocess.run([*install, wheel], check=True, capture_output=True)
    return python


def test_the_wheel_holds_the_package_its_templates_and_static_files_and_nothing_else(
    wheel: Path,
) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names if not name.startswith("loginflow-")}
    assert top_level == {"loginflow"}  # no generic module such as config beside it
    assert "loginflow/config.py" in names
    for folder in ("templates", "static"):
        shipped = {n.removeprefix(f"loginflow/{folder}/") for n in names if f"/{folder}/" in n}
        assert shipped == {p.name for p in (PROJECT_ROOT / folder).iterdir()}


def test_the_installed_site_serves_every_page_from_any_folder_with_its_instance_where_told(
    installed: Path, tmp_path: Path
) -> None:
    instance = tmp_path / "instance"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "LOGINFLOW_"))}
    env.pop("PYTHONPATH", None)
    env |= {"LOGINFLOW_INSTANCE_PATH": str(instance), "LOGINFLOW_CONFIG": "DevelopmentConfig"}
    static = [f"/static/{p.name}" for p in sorted((PROJECT_ROOT / "static").iterdir())]
    run = subprocess.run(
        [installed, "-c", VISIT, *static],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.splitlines()[-1])
    wrong = {path: got for path, (got, expected) in seen["statuses"].items() if got != expected}
    assert wrong == {}
    venv_home = installed.parents[1]
    assert Path(seen["package"]).is_relative_to(venv_home)
    assert [Path(p).is_relative_to(venv_home) for p in seen["templates"]] == [True]
    assert Path(seen["static"]).is_relative_to(venv_home)
    assert seen["instance"] == str(instance)
    assert sorted(p.name for p in instance.iterdir() if not p.name.endswith(("-wal", "-shm"))) == [
        "loginflow.sqlite",
        "secret_key",
    ]
    assert list(elsewhere.iterdir()) == []  # nothing written where it was started


def test_no_module_named_config_is_installed(installed: Path, tmp_path: Path) -> None:
    run = subprocess.run(
        [installed, "-c", "import config"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "ModuleNotFoundError: No module named 'config'" in run.stderr


def _site_packages(python: Path) -> Path:
    where = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    found = subprocess.run([python, "-c", where], capture_output=True, text=True, check=True)
    return Path(found.stdout.strip())
