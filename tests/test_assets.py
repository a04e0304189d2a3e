"""Static files: gzip when accepted, content-hashed URLs cached for a year, 304 on a known ETag,
never a compressed HTML page; the chart macro and its scripts."""

import gzip
import hashlib
import json
import re
from pathlib import Path

import pytest
from flask import render_template_string

from survey.assets import StaticFileCache

STATIC = Path(__file__).parent.parent / "survey" / "static"
BUNDLE = "vendor/plotly-cartesian.min.js"
BUNDLE_BYTES = (STATIC / BUNDLE).read_bytes()
BUNDLE_VERSION = hashlib.sha256(BUNDLE_BYTES).hexdigest()[:8]
IMMUTABLE = "public, max-age=31536000, immutable"
BROWSER_ACCEPT = {"Accept-Encoding": "gzip, deflate, br, zstd"}


def versioned(filename: str) -> str:
    version = hashlib.sha256((STATIC / filename).read_bytes()).hexdigest()[:8]
    return f"/static/{filename}?v={version}"


def test_asset_url_carries_the_content_hash(app):
    with app.test_request_context():
        url = render_template_string("{{ asset_url('vendor/plotly-cartesian.min.js') }}")
    assert url == f"/static/{BUNDLE}?v={BUNDLE_VERSION}"
    assert re.fullmatch(r"[0-9a-f]{8}", BUNDLE_VERSION)


def test_asset_url_refuses_a_missing_file(app):
    with app.test_request_context(), pytest.raises(LookupError):
        render_template_string("{{ asset_url('js/no-such-file.js') }}")


@pytest.mark.parametrize("filename", [BUNDLE, "js/charts.js", "js/app.js", "css/app.css"])
def test_scripts_and_styles_are_gzipped_when_accepted(client, filename):
    response = client.get(versioned(filename), headers=BROWSER_ACCEPT)
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.vary
    assert response.headers["Content-Length"] == str(len(response.data))
    assert gzip.decompress(response.data) == (STATIC / filename).read_bytes()
    scripts = {"text/javascript", "application/javascript"}
    assert response.mimetype in ({"text/css"} if filename.endswith(".css") else scripts)


def test_the_bundle_is_sent_at_a_third_of_its_size(client):
    response = client.get(f"/static/{BUNDLE}", headers=BROWSER_ACCEPT)
    assert len(response.data) < len(BUNDLE_BYTES) / 2.5


@pytest.mark.parametrize("accept", [None, "identity", "br", "gzip;q=0, br", "*;q=0"])
def test_the_bundle_is_sent_as_it_is_when_gzip_is_not_accepted(client, accept):
    headers = {"Accept-Encoding": accept} if accept is not None else {}
    response = client.get(f"/static/{BUNDLE}", headers=headers)
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
    assert "Accept-Encoding" in response.vary  # a cache must not hand this to a gzip client
    assert response.headers["Content-Length"] == str(len(BUNDLE_BYTES))
    assert response.data == BUNDLE_BYTES


def test_a_head_request_gets_the_headers_without_the_body(client):
    response = client.head(f"/static/{BUNDLE}", headers=BROWSER_ACCEPT)
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert int(response.headers["Content-Length"]) == len(gzip.compress(BUNDLE_BYTES, 9, mtime=0))
    assert response.data == b""


@pytest.mark.parametrize(
    "filename", [BUNDLE, "css/app.css", "favicon.svg", "vendor/plotly-LICENSE.txt"]
)
def test_a_versioned_url_is_cached_for_a_year(client, filename):
    with client.get(versioned(filename), headers=BROWSER_ACCEPT) as response:
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == IMMUTABLE


@pytest.mark.parametrize("query", ["", "?v=", "?v=00000000", f"?v={BUNDLE_VERSION}0"])
@pytest.mark.parametrize("filename", [BUNDLE, "vendor/plotly-LICENSE.txt"])
def test_without_the_current_version_the_cache_is_short(client, filename, query):
    with client.get(f"/static/{filename}{query}", headers=BROWSER_ACCEPT) as response:
        assert response.status_code == 200
        assert "immutable" not in response.headers["Cache-Control"]
        assert response.cache_control.max_age is not None
        assert 0 < response.cache_control.max_age <= 3600
        assert response.headers["ETag"]


@pytest.mark.parametrize("headers", [BROWSER_ACCEPT, {}])
def test_a_known_etag_gets_304(client, headers):
    first = client.get(f"/static/{BUNDLE}", headers=headers)
    etag = first.headers["ETag"]
    again = client.get(f"/static/{BUNDLE}", headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    assert "immutable" not in again.headers["Cache-Control"]


def test_gzip_and_identity_are_different_representations(client):
    plain = client.get(f"/static/{BUNDLE}")
    compressed = client.get(f"/static/{BUNDLE}", headers=BROWSER_ACCEPT)
    assert plain.headers["ETag"] != compressed.headers["ETag"]
    # A validator of the plain file does not vouch for the gzip body, and the other way round.
    headers = {**BROWSER_ACCEPT, "If-None-Match": plain.headers["ETag"]}
    assert client.get(f"/static/{BUNDLE}", headers=headers).status_code == 200
    headers = {"If-None-Match": compressed.headers["ETag"]}
    assert client.get(f"/static/{BUNDLE}", headers=headers).status_code == 200


def test_other_static_files_keep_flask_conditional_requests(client):
    with client.get("/static/vendor/plotly-LICENSE.txt", headers=BROWSER_ACCEPT) as first:
        assert "Content-Encoding" not in first.headers
        etag = first.headers["ETag"]
    headers = {"If-None-Match": etag}
    with client.get("/static/vendor/plotly-LICENSE.txt", headers=headers) as again:
        assert again.status_code == 304


@pytest.mark.parametrize("path", ["/static/../assets.py", "/static/vendor", "/static/no.js"])
def test_nothing_outside_the_static_files_is_served(client, path):
    assert client.get(path, headers=BROWSER_ACCEPT).status_code == 404


@pytest.mark.parametrize("path", ["/", "/login", "/privacy", "/no-such-page"])
def test_html_pages_are_never_compressed(client, path):
    """Pages carry CSRF tokens: compressing them would open BREACH."""
    response = client.get(path, headers=BROWSER_ACCEPT)
    assert response.mimetype == "text/html"
    assert "Content-Encoding" not in response.headers
    assert response.get_data(as_text=True).lstrip().lower().startswith("<!doctype html>")


def test_pages_link_their_assets_by_version_and_only_chart_pages_load_plotly(client):
    page = client.get("/login").get_data(as_text=True)
    for filename in ("css/app.css", "js/app.js", "favicon.svg"):
        assert f'"{versioned(filename)}"' in page
    assert "plotly" not in page
    assert "charts.js" not in page


def test_a_changed_file_gets_a_new_version(tmp_path):
    files = StaticFileCache()
    path = tmp_path / "example.js"
    path.write_text("let answer = 41;")
    first = files.get(str(path))
    assert files.get(str(path)) is first  # read once while it is unchanged
    path.write_text("let answer = 42; // changed")
    second = files.get(str(path))
    assert second.version != first.version
    assert gzip.decompress(second.gzipped) == path.read_bytes()


def test_chart_scripts_load_the_renderer_which_fetches_the_bundle_when_needed(app):
    with app.test_request_context():
        html = render_template_string(
            '{% from "macros/charts.html" import chart_scripts %}{{ chart_scripts() }}'
        )
    sources = re.findall(r'<script src="([^"]+)" data-plotly="([^"]+)" defer></script>', html)
    assert sources == [(versioned("js/charts.js"), versioned(BUNDLE))]


def test_the_chart_macro_keeps_hostile_text_inside_its_json_block(app):
    figure = {
        "data": [{"type": "bar", "x": ["</script><script>alert(1)</script>"], "y": [3]}],
        "layout": {"title": {"text": "Tom & Jerry <!-- 'quoted' -->"}},
    }
    with app.test_request_context():
        html = render_template_string(
            '{% from "macros/charts.html" import chart %}{{ chart("scores", figure, label) }}',
            figure=figure,
            label="Scores <b>per</b> scale",
        )
    assert html.count("</script>") == 1
    assert "<script>" not in html and "<!--" not in html
    block = re.search(
        r'<script type="application/json" data-chart-for="scores">(.*?)</script>', html, re.S
    )
    assert block is not None
    assert json.loads(block.group(1)) == figure
    assert '<div id="scores" class="chart-plot"></div>' in html
    assert "<figcaption" in html and "Scores &lt;b&gt;per&lt;/b&gt; scale" in html
    assert "role=" not in html


def test_the_chart_macro_keeps_the_figures_height_free_before_it_draws(app):
    template = '{% from "macros/charts.html" import chart %}{{ chart("c", figure, "C") }}'
    with app.test_request_context():
        sized = render_template_string(template, figure={"data": [], "layout": {"height": 240}})
        hostile = render_template_string(template, figure={"layout": {"height": '1px" x="'}})
    assert '<div id="c" class="chart-plot" style="min-height: 240px"></div>' in sized
    assert '<div id="c" class="chart-plot" style="min-height: 0px"></div>' in hostile


def test_the_chart_macro_holds_the_callers_text_alternative(app):
    template = (
        '{% from "macros/charts.html" import chart %}'
        '{% call chart("scores", {"data": [], "layout": {}}, "Scores") %}'
        "<table><caption>Scores</caption></table>{% endcall %}"
    )
    with app.test_request_context():
        html = render_template_string(template)
    assert re.search(r"<figure.*<table><caption>Scores</caption></table>\s*</figure>", html, re.S)


CHART_PAGE = """{% extends "base.html" %}
{% from "macros/charts.html" import chart, chart_scripts %}
{% block title %}Charts{% endblock %}
{% block head %}{{ chart_scripts() }}{% endblock %}
{% block content %}
{{ chart("bars", bars, "Mean score per scale") }}
{{ chart("heat", heat, "Scores per team") }}
{% endblock %}"""
