"""chunkup in the Airflow UI, in a real browser (headless Chromium through Playwright) on the local cluster.

- Admin > Connections > Add shows each chunkup connection type with its own fields: the labels, descriptions,
  defaults and inputs of ``conn-fields`` (read from ``get_provider_info``), relabeled and hidden standard
  fields, placeholders, and masked inputs for every secret.
- A ``chunkup_x`` connection saved through the form has its typed fields in ``extra`` (REST), and the list's
  Test button shows the provider's own ``test_connection`` answer: success against the emulator, and X's
  401 explained for a wrong token.
- A finished upload task has its "Uploaded media" button (UI and REST) pointing at the emulator's page of
  the media, which holds the uploaded bytes' sha256.

Screenshots go to a temporary directory, or to ``$CHUNKUP_UI_SCREENSHOTS`` (relative to the repository, e.g.
``docs/images``) when set. Every wait has a deadline and says what it waited for; nothing sleeps.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from cluster_client import ROOT, Cluster, ClusterError
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from airflow_provider_chunkup.get_provider_info import get_provider_info

pytestmark = pytest.mark.cluster

MiB = 1024 * 1024
CHROMIUM = os.environ.get("CHUNKUP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# The UI is a single-page app served by one api-server worker on a busy 2-core machine: a page, its
# translations and its API calls can take several seconds.
UI_TIMEOUT_MS = 30_000
EMULATOR_TOKEN = "chunkup-emulator-token"

CONNECTION_TYPES = {c["connection-type"]: c for c in get_provider_info()["connection-types"]}
STANDARD_LABELS = {"description": "Description", "host": "Host", "schema": "Schema", "login": "Login",
                   "password": "Password", "port": "Port"}

# The connection dialog (Airflow 3.3). Its conn-fields inputs are named element_<field>; a select's wrapper
# has that id instead. String and password conn-fields are not tied to their <label> (label for= another id),
# so get_by_label finds only the number, select and switch ones: rows are found by the input's name.
FIELD_ROW = "[data-scope=field][data-part=root]"
FIELD_LABEL = "label[data-part=label]"
STANDARD_REGION = '[role=region][id$=":content:standardFields"]'
# The accordion item's id is "Extra Fields" (a space), which breaks its aria-labelledby: no accessible name.
EXTRA_REGION = '[role=region][id$=":content:Extra Fields"]'
TOOLTIP = "[data-scope=tooltip][data-part=content]:visible"


def kinds(schema: dict[str, Any]) -> set[str]:
    kind = schema["type"]
    return ({kind} if isinstance(kind, str) else set(kind)) - {"null"}


def field_row(dialog: Locator, name: str) -> Locator:
    """The form row of conn-field ``name``: its label, input and description."""
    return dialog.locator(FIELD_ROW).filter(has=dialog.page.locator(f'[name="element_{name}"], [id="element_{name}"]'))


def shot(target: Page | Locator, path: Path, **options: Any) -> None:
    """A screenshot of a page or an element, with animations finished (a toast fades in)."""
    target.screenshot(path=path, animations="disabled", **options)


def toast(page: Page, text: str) -> Locator:
    """A notification (bottom right) whose title or description has ``text``."""
    return page.get_by_role("status").filter(has_text=text)


# -- fixtures ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    target = os.environ.get("CHUNKUP_UI_SCREENSHOTS")
    if not target:
        return tmp_path_factory.mktemp("ui-screenshots")
    directory = Path(target) if Path(target).is_absolute() else ROOT / target
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture(scope="module")
def uploads(cluster: Cluster) -> Iterator[dict[str, tuple[str, str]]]:
    """One api.video and one X example run, started first so that they go on while the forms are checked:
    ``{dag_id: (run_id, sha256 of the file)}``. Their files are on the disk every component sees."""
    directory = cluster.dir / "shared"
    directory.mkdir(exist_ok=True)
    runs, files = {}, []
    for dag_id, size, conf in (("chunkup_apivideo_upload", 20 * MiB + 3, {"title": "chunkup UI test"}),
                               ("chunkup_x_upload", 6 * MiB + 5, {"media_category": "tweet_video"})):
        data = os.urandom(size)
        path = directory / f"ui-{os.urandom(4).hex()}.mp4"
        path.write_bytes(data)
        files.append(path)
        runs[dag_id] = (cluster.trigger(dag_id, {"source": str(path), **conf}), hashlib.sha256(data).hexdigest())
    yield runs
    for path in files:
        path.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"No Chromium at {CHROMIUM}: `apt-get install chromium` (bash .ci/cluster up installs it).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(browser: Browser, cluster: Cluster) -> Iterator[Page]:
    """A signed-in admin. The viewport is tall: the connection dialog scrolls inside itself."""
    context = browser.new_context(viewport={"width": 1300, "height": 2300})
    context.set_default_timeout(UI_TIMEOUT_MS)
    expect.set_options(timeout=UI_TIMEOUT_MS)
    page = context.new_page()
    page.goto(cluster.api_url + "/")
    page.get_by_label("Username").fill(cluster.info["username"])
    page.get_by_label("Password").fill(cluster.info["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label("Admin", exact=True), "the UI's navigation after signing in").to_be_visible()
    yield page
    context.close()


@pytest.fixture(autouse=True)
def screenshot_on_failure(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[None]:
    """What the browser showed when a test failed, in a temporary directory (printed)."""
    failed = request.session.testsfailed
    yield
    if request.session.testsfailed > failed and "page" in request.fixturenames:
        path = tmp_path_factory.mktemp("ui-failure") / "page.png"
        request.getfixturevalue("page").screenshot(path=path)
        print(f"The page when {request.node.name} failed: {path}")


def open_connections(page: Page) -> None:
    """Admin > Connections, as a person gets there, from a fresh load of the page (the page is shared by the
    module's tests: a dialog a failed test left open must not fail the next one)."""
    page.reload()
    page.set_viewport_size({"width": 1300, "height": 2300})
    page.get_by_label("Admin", exact=True).click()
    page.get_by_role("menuitem", name="Connections").click()
    expect(page.get_by_role("button", name="Add Connection"), "the Connections page").to_be_visible()


def add_connection_dialog(page: Page, conn_type: str) -> Locator:
    """Admin > Connections > Add, with ``conn_type`` picked from the type list (by its hook name)."""
    open_connections(page)
    page.get_by_role("button", name="Add Connection").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="Add Connection"), "the Add Connection dialog").to_be_visible()
    dialog.get_by_role("combobox", name="Connection Type").click()
    page.keyboard.type("chunkup")
    hook_name = CONNECTION_TYPES[conn_type]["hook-name"]
    page.get_by_role("option", name=hook_name, exact=True).click()
    expect(dialog.locator("input[name=password]"), f"the standard fields of {hook_name}").to_be_visible()
    return dialog


def open_extra_fields(dialog: Locator) -> Locator:
    dialog.get_by_role("button", name="Extra Fields", exact=True).click()
    region = dialog.locator(EXTRA_REGION)
    expect(region, "the Extra Fields section to open").to_be_visible()
    return region


# -- the connection forms ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("uploads")  # the example runs go on meanwhile
@pytest.mark.parametrize("conn_type", sorted(CONNECTION_TYPES))
def test_connection_form_shows_the_types_own_fields(page: Page, screenshots: Path, conn_type: str):
    info = CONNECTION_TYPES[conn_type]
    behaviour = info["ui-field-behaviour"]
    dialog = add_connection_dialog(page, conn_type)

    # Standard fields: relabeled, placeholders, hidden ones gone, the password masked.
    labels = {**STANDARD_LABELS, **behaviour.get("relabeling", {})}
    hidden = set(behaviour.get("hidden-fields", []))
    shown = [name for name in STANDARD_LABELS if name not in hidden]
    standard = dialog.locator(STANDARD_REGION)
    for name in shown:
        row = standard.locator(FIELD_ROW).filter(has=page.locator(f'[name="{name}"]'))
        expect(row.locator(FIELD_LABEL), f"{conn_type}: the label of standard field {name}").to_have_text(labels[name])
    for name in hidden:
        expect(standard.locator(f'[name="{name}"]'), f"{conn_type}: {name} hidden").to_be_hidden()
    expect(standard.locator(FIELD_LABEL), f"{conn_type}: only the standard fields shown").to_have_count(len(shown))
    for name, placeholder in behaviour.get("placeholders", {}).items():
        expect(standard.locator(f'[name="{name}"]'),
               f"{conn_type}: placeholder of {name}").to_have_attribute("placeholder", placeholder)
    expect(standard.locator("input[name=password]"), f"{conn_type}: password masked").to_have_attribute(
        "type", "password")

    # Extra fields: every conn-field, in order, with its own label, description, default and input.
    fields = info["conn-fields"]
    extra = open_extra_fields(dialog)
    expect(extra.locator(FIELD_LABEL), f"{conn_type}: the conn-fields' labels, in order").to_have_text(
        [field["label"] for field in fields.values()])
    for name, field in fields.items():
        schema, what = field["schema"], f"{conn_type} field {name}"
        row = field_row(extra, name)
        expect(row.locator(FIELD_LABEL), f"{what}: label").to_have_text(field["label"])
        expect(row.locator("[data-part=helper-text]"), f"{what}: description").to_have_text(field["description"])
        default = schema.get("default")
        if "enum" in schema:
            expect(row.get_by_role("combobox"), f"{what}: a select").to_be_visible()
            if default is not None:
                expect(row.locator(f'[id="element_{name}"]'), f"{what}: default shown").to_have_text(default)
        elif kinds(schema) & {"integer", "number"}:
            expect(row.get_by_role("spinbutton"), f"{what}: a number input").to_have_value(
                "" if default is None else str(default))
        elif "boolean" in kinds(schema):
            switch = row.locator("input[type=checkbox]")
            expect(switch, f"{what}: a switch").to_have_count(1)
            expect(switch, f"{what}: default {default}").to_be_checked(checked=bool(default))
        else:
            text = row.locator(f'input[name="element_{name}"]')
            expect(text, f"{what}: a text input").to_be_visible()
            expect(text, f"{what}: default").to_have_value(default or "")
            if schema.get("format") == "password":
                expect(text, f"{what}: a secret, masked").to_have_attribute("type", "password")
            else:
                expect(text, f"{what}: not masked").not_to_have_attribute("type", "password")

    shot(dialog, screenshots / f"connection-form-{conn_type}.png")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog, "the dialog to close").to_be_hidden()


# -- a connection saved through the form, tested from the list ------------------------------------------------


def provider_answer(monkeypatch: pytest.MonkeyPatch, conn_id: str, connection: dict[str, Any]) -> tuple[bool, str]:
    """What chunkup's own hook answers for ``connection`` when called here, outside Airflow's UI."""
    from airflow_provider_chunkup.hooks.x import XMediaUploadHook

    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(connection))
    return XMediaUploadHook(conn_id).test_connection()


def delete_connection(cluster: Cluster, conn_id: str) -> None:
    try:
        cluster.api("DELETE", f"/connections/{conn_id}")
    except ClusterError as e:
        if "404" not in str(e):
            raise


def test_connection_saved_from_the_form_and_tested(page: Page, cluster: Cluster, screenshots: Path,
                                                   monkeypatch: pytest.MonkeyPatch):
    conn_id = f"chunkup_ui_x_{os.urandom(3).hex()}"
    wrong_id = f"{conn_id}_wrong_token"
    emulator = urlsplit(cluster.emulator_url)
    # The emulator's port in the Port field, not in the host: Airflow 3.3.2's Test button sends port 0 for a
    # connection without one, which the API takes for another destination (400, "The host or port to test
    # differs from the stored connection"; apache/airflow#73298).
    standard = {"host": f"http://{emulator.hostname}", "port": emulator.port, "password": EMULATOR_TOKEN}
    typed = {"api_version": "v1.1", "chunk_size": 1048576, "max_in_flight": 2, "restart_expired": True}
    try:
        # One with a wrong token (through the API), listed beside the one the form saves.
        cluster.api("POST", "/connections", json={"connection_id": wrong_id, "conn_type": "chunkup_x",
                                                  **standard, "password": "not-the-token"})
        dialog = add_connection_dialog(page, "chunkup_x")
        dialog.locator("input[name=connection_id]").fill(conn_id)
        dialog.locator("textarea[name=description]").fill("Saved from the form by tests/cluster/test_ui.py")
        dialog.locator("input[name=host]").fill(standard["host"])
        dialog.locator("input[name=port]").fill(str(standard["port"]))
        dialog.locator("input[name=password]").fill(standard["password"])
        expect(dialog.locator("input[name=password]"), "the token masked while typed").to_have_attribute(
            "type", "password")
        shot(dialog, screenshots / "connection-form-chunkup_x-filled.png")
        extra = open_extra_fields(dialog)
        field_row(extra, "api_version").get_by_role("combobox").click()
        page.get_by_role("option", name=typed["api_version"], exact=True).click()
        expect(extra.locator('[id="element_api_version"]'), "API version picked").to_contain_text(typed["api_version"])
        field_row(extra, "chunk_size").get_by_role("spinbutton").fill(str(typed["chunk_size"]))
        field_row(extra, "max_in_flight").get_by_role("spinbutton").fill(str(typed["max_in_flight"]))
        field_row(extra, "restart_expired").locator("[data-part=control]").click()
        expect(field_row(extra, "restart_expired").locator("input[type=checkbox]"),
               "restart_expired switched on").to_be_checked()
        dialog.get_by_role("button", name="Save").click()
        created = toast(page, "Connection has been successfully created")
        expect(created, "the connection to be saved").to_be_visible()

        # extra holds every conn-field under its own name: typed values, untouched defaults, null for the rest.
        saved = cluster.api("GET", f"/connections/{conn_id}")
        assert {k: saved[k] for k in ("conn_type", "host", "port", "login", "schema")} == {
            "conn_type": "chunkup_x", "host": standard["host"], "port": standard["port"], "login": None,
            "schema": None}
        assert saved["password"] == "***"  # masked by the API; the hook reads the real one below
        fields = CONNECTION_TYPES["chunkup_x"]["conn-fields"]
        assert json.loads(saved["extra"]) == {name: typed.get(name, field["schema"].get("default"))
                                              for name, field in fields.items()}

        expected_ok = provider_answer(monkeypatch, "chunkup_ui_expected_ok",
                                      {"conn_type": "chunkup_x", **standard, "extra": json.loads(saved["extra"])})
        expected_wrong = provider_answer(monkeypatch, "chunkup_ui_expected_wrong",
                                         {"conn_type": "chunkup_x", **standard, "password": "not-the-token"})
        assert expected_ok == (True, "Authenticated to X (v1.1); probe answered 404.")  # the typed api_version
        assert expected_wrong[0] is False and "HTTP 401" in expected_wrong[1], expected_wrong

        # The list's Test button (the dialog closed on the list, reloaded by the save): the API server runs the
        # hook's test_connection, and a toast shows its answer.
        expect(created, "the creation's toast to go").to_be_hidden()
        page.set_viewport_size({"width": 1300, "height": 720})  # the toast near the rows in the screenshot
        for row_id, title, (_, message), screenshot in (
                (conn_id, "Test Connection Successful", expected_ok, "connection-test-success.png"),
                (wrong_id, "Test Connection Failed", expected_wrong, "connection-test-failure.png")):
            row = page.get_by_role("row").filter(has=page.get_by_role("cell", name=row_id, exact=True))
            button = row.get_by_role("button", name="Test Connection")
            expect(button, f"the Test button of {row_id}").to_be_enabled()
            with page.expect_response("**/api/v2/connections/test") as answer:
                button.click()
            assert answer.value.status == 200, answer.value.text()
            shown = toast(page, title)
            expect(shown, f"the {title!r} toast for {row_id}").to_be_visible()
            expect(shown.locator("[data-part=description]"), "the provider's message").to_have_text(message)
            # Its tooltip would cover the next row's button. A pointer that left while the button was busy
            # (disabled) went unnoticed: leave again now, to a spot away from the toasts too.
            button.hover()
            page.mouse.move(400, 650)
            expect(page.locator(TOOLTIP), "the Test button's tooltip to close").to_have_count(0)
            shot(page, screenshots / screenshot)
            expect(shown, "the toast to go (so that the next one stands alone)").to_be_hidden()
    finally:
        page.set_viewport_size({"width": 1300, "height": 2300})
        delete_connection(cluster, conn_id)
        delete_connection(cluster, wrong_id)
    left = {c["connection_id"] for c in cluster.api("GET", "/connections", params={"limit": 1000})["connections"]}
    assert not {conn_id, wrong_id} & left


# -- the Uploaded media link ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("dag_id", "task_id"), [("chunkup_apivideo_upload", "upload_last_part"),
                                                 ("chunkup_x_upload", "finalize")])
def test_finished_upload_task_has_its_uploaded_media_link(page: Page, cluster: Cluster, screenshots: Path,
                                                           uploads: dict[str, tuple[str, str]], dag_id: str,
                                                           task_id: str):
    run_id, sha256 = uploads[dag_id]
    cluster.expect_success(dag_id, run_id)
    result = cluster.xcom(dag_id, run_id, task_id)
    media_id = result["media_id"]
    if result["api"] == "apivideo":
        # The emulator's video has a player URL like api.video's, but no player page behind it: the link is
        # the emulator's page of the video instead.
        assert result["details"]["assets"]["player"].startswith(f"{cluster.emulator_url}/_emulator/apivideo/")
        expected = f"{cluster.emulator_url}/_emulator/apivideo/videos/{media_id}"
    else:
        expected = f"{cluster.emulator_url}/_emulator/x/media/{media_id}"

    links = cluster.api("GET", f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances/{task_id}/links")
    assert links["extra_links"] == {"Uploaded media": expected}

    page.set_viewport_size({"width": 1300, "height": 800})
    page.goto(f"{cluster.api_url}/dags/{dag_id}/runs/{quote(run_id, safe='')}/tasks/{task_id}")
    expect(page.get_by_role("heading", name=task_id), f"the task page of {task_id}").to_be_visible()
    page.get_by_role("link", name="Details", exact=True).click()
    button = page.get_by_role("link", name="Uploaded media", exact=True)
    expect(button, "the Uploaded media button in the task's Details").to_be_visible()
    expect(button, "the link to the media").to_have_attribute("href", expected)
    expect(button, "opened in a new tab").to_have_attribute("target", "_blank")
    # The task's header, tabs and Extra Links (the attributes' table below is Airflow's own).
    shot(page, screenshots / f"task-uploaded-media-{result['api']}.png",
         clip={"x": 0, "y": 0, "width": 1300, "height": 420})

    # Following it shows the emulator's record of the media: the bytes the task sent.
    with page.expect_popup() as popup_info:
        button.click()
    media_page = popup_info.value
    media_page.wait_for_load_state()
    record = json.loads(media_page.locator("body").inner_text())
    media_page.close()
    assert record["sha256"] == sha256


def test_post_task_has_its_post_on_x_link(page: Page, cluster: Cluster, uploads: dict[str, tuple[str, str]]):
    """The X example ends with a post: its task's "Post on X" button opens the post (on the emulator, its page)."""
    run_id, _ = uploads["chunkup_x_upload"]
    cluster.expect_success("chunkup_x_upload", run_id)
    posted = cluster.xcom("chunkup_x_upload", run_id, "post")
    expected = f"{cluster.emulator_url}/_emulator/x/posts/{posted['post_id']}"
    assert posted["url"] == expected
    links = cluster.api("GET", f"/dags/chunkup_x_upload/dagRuns/{quote(run_id, safe='')}/taskInstances/post/links")
    assert links["extra_links"] == {"Post on X": expected}

    page.set_viewport_size({"width": 1300, "height": 800})
    page.goto(f"{cluster.api_url}/dags/chunkup_x_upload/runs/{quote(run_id, safe='')}/tasks/post")
    expect(page.get_by_role("heading", name="post"), "the task page of the post").to_be_visible()
    page.get_by_role("link", name="Details", exact=True).click()
    button = page.get_by_role("link", name="Post on X", exact=True)
    expect(button, "the link to the post").to_have_attribute("href", expected)
    with page.expect_popup() as popup_info:
        button.click()
    post_page = popup_info.value
    post_page.wait_for_load_state()
    record = json.loads(post_page.locator("body").inner_text())
    post_page.close()
    finalized = cluster.xcom("chunkup_x_upload", run_id, "finalize")
    assert record["id"] == posted["post_id"] and record["media_ids"] == [finalized["media_id"]]
