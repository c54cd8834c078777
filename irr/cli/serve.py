"""`irr serve`: the task bank and the store's sessions and reports in a browser.

The command checks the options and starts uvicorn on the web application
(:mod:`irr.web.app`), which it names by its import string: the CLI and the web application sit
side by side and neither imports the other.  The settings reach the application through the
environment; the passphrase is hashed and removed from it as the application starts.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import click

from irr.cli.options import BANK_OPTION
from irr.cli.store import STORE_OPTION, open_existing_store

PASSPHRASE_ENV = "IRR_SERVE_PASSPHRASE"
MIN_PASSPHRASE = 12
APP = "irr.web.app:app_from_environment"


def is_loopback(host: str) -> bool:
    """Is ``host`` this machine only?"""
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_options(host: str, passphrase: str | None) -> None:
    """Refuse a non-loopback address without a passphrase, and a short passphrase anywhere."""
    from irr.errors import DataError

    if not is_loopback(host) and not passphrase:
        raise DataError(
            f"refusing to listen on {host} without a coordinator passphrase: give --passphrase or "
            f"${PASSPHRASE_ENV} (at least {MIN_PASSPHRASE} characters), or serve on 127.0.0.1"
        )
    if passphrase is not None and len(passphrase) < MIN_PASSPHRASE:
        raise DataError(f"the passphrase is too short: use at least {MIN_PASSPHRASE} characters")


@click.command()
@STORE_OPTION
@BANK_OPTION
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on (this machine only by default)."
)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option(
    "--passphrase",
    envvar=PASSPHRASE_ENV,
    default=None,
    help=f"The coordinator's passphrase (or ${PASSPHRASE_ENV}); required on any address but this machine's. "
    "Kept only as a hash; every coordinator page then asks for it.",
)
@click.option(
    "--access-log/--no-access-log",
    default=False,
    show_default=True,
    help="Log every request (paths can hold session and paper ids).",
)
@click.option(
    "--max-upload-mb",
    type=click.FloatRange(0.01, 1024),
    default=10.0,
    show_default=True,
    help="Largest score sheet the browser may upload, in MiB (larger uploads are refused unread).",
)
def serve(store_path, bank_dir, host, port, passphrase, access_log, max_upload_mb) -> None:
    """Web application: the task bank, the store's sessions and their reports, in a browser.

    Bound to 127.0.0.1 unless --host is given; on any other address it refuses to start without a
    coordinator passphrase (at least 12 characters; none is generated).  Every page has a JSON twin
    at the same path with .json appended.  On a task's page the coordinator can open a live
    calibration session: raters join with its link (or QR code) and score the anchor papers on
    their own devices while the dashboard follows; live sessions are kept in the store, so a
    restart carries on.  Score sheets can be uploaded on the sessions page (validated like irr
    ingest's, up to --max-upload-mb).

    \b
    irr ingest examples/calibration/*.csv --session examples/calibration/session.yaml
    irr serve                                          # http://127.0.0.1:8000/ on ./irr-store.sqlite
    IRR_SERVE_PASSPHRASE='long room passphrase' irr serve --host 0.0.0.0 --port 8080
    """
    from irr.model.bank import load_bank

    check_options(host, passphrase)
    bank = load_bank(bank_dir)  # a missing or invalid bank is reported now, with its problems
    with open_existing_store(store_path) as opened:  # a missing or broken store is an error now, not a 500 later
        opened.sessions()
        store = Path(opened.path).resolve()
    os.environ.update(
        {
            "IRR_SERVE_STORE": str(store),
            "IRR_SERVE_BANK": str(Path(bank.root).resolve()),
            "IRR_SERVE_MAX_UPLOAD": str(int(max_upload_mb * 2**20)),
        }
    )
    os.environ.pop("IRR_SERVE_SECRET", None)  # the cookie key kept in the store: raters stay joined over a restart
    if passphrase:
        os.environ[PASSPHRASE_ENV] = passphrase
    else:
        os.environ.pop(PASSPHRASE_ENV, None)
    import uvicorn

    click.echo(f"irr serve: http://{host}:{port}/  (store {store}; Ctrl-C stops)", err=True)
    uvicorn.run(APP, factory=True, host=host, port=port, access_log=access_log, log_level="warning")


COMMANDS = [serve]
