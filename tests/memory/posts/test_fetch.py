"""Fetching a post's linked pages: a local HTTP server plays every kind of hostile or broken site."""

import ipaddress
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from memory.posts.fetch import (
    FetchRefused,
    extract_main_text,
    extract_title_and_text,
    fetch_page,
    is_public_address,
    plain_html_to_text,
)

ARTICLE = """<!doctype html><html><head><meta charset="utf-8"><title>Quiet harbour | The Gazette</title></head>
<body><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav>
<article><h1>Quiet harbour reopens after storm</h1>
<p>The harbour of Port Ellen reopened on Tuesday after three weeks of repairs to the sea wall,
the council said. Fishing boats returned to their moorings before noon.</p>
<p>Engineers replaced forty metres of the wall and raised the quay by half a metre, which the
harbour master called the largest repair since the nineteen-seventies.</p>
<p>Ferries to the mainland resume their summer timetable next week, with the first crossing at
seven in the morning and the last at nine in the evening.</p></article>
<footer>Copyright The Gazette. Subscribe to our newsletter.</footer></body></html>"""


class Site(BaseHTTPRequestHandler):
    routes = {}  # path -> callable(handler)
    robots = b"User-agent: *\nDisallow: /private/\n"
    robots_status = 200
    seen = []

    def do_GET(self):
        self.seen.append(self.path)
        if self.path == "/robots.txt":
            return self.reply(self.robots_status, "text/plain", self.robots)
        route = self.routes.get(self.path)
        if route is None:
            return self.reply(404, "text/html", b"<h1>Not found</h1>")
        route(self)

    def reply(self, status, content_type, body, headers=()):
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def redirect(self, location, status=302):
        self.reply(status, "text/html", b"", [("Location", location)])

    def log_message(self, *args):
        pass


def slow(handler):
    time.sleep(1.5)
    try:
        handler.reply(200, "text/html", ARTICLE.encode())
    except OSError:
        pass  # the client gave up long ago


def trickle(handler):
    # Each byte arrives well within the read timeout; the whole body never within the call's deadline.
    handler.send_response(200)
    handler.send_header("Content-Type", "text/plain")
    handler.send_header("Content-Length", "100")
    handler.end_headers()
    try:
        for _ in range(100):
            handler.wfile.write(b"x")
            handler.wfile.flush()
            time.sleep(0.1)
    except OSError:
        pass


def huge_streamed(handler):
    # No Content-Length: only counting while streaming can stop it.
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.end_headers()
    try:
        for _ in range(64):
            handler.wfile.write(b"<p>" + b"a" * 65536 + b"</p>")
    except OSError:
        pass
    handler.close_connection = True


def serve(handler_class):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def site(settings):
    class Handler(Site):
        seen = []

    server = serve(Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    Handler.routes = {
        "/article": lambda h: h.reply(200, "text/html; charset=utf-8", ARTICLE.encode()),
        "/notes.txt": lambda h: h.reply(200, "text/plain; charset=utf-8", "Shopping list\n\n  eggs   and  milk \n".encode()),
        "/slow": slow,
        "/trickle": trickle,
        "/huge": lambda h: h.reply(200, "text/html", b"<p>" + b"a" * (3 * 1024 * 1024) + b"</p>"),
        "/huge-streamed": huge_streamed,
        "/image.png": lambda h: h.reply(200, "image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),
        "/no-type": lambda h: h.reply(200, None, b"<p>what am I</p>"),
        "/loop/a": lambda h: h.redirect("/loop/b"),
        "/loop/b": lambda h: h.redirect(f"{base}/loop/a"),
        "/private/secret": lambda h: h.reply(200, "text/html", ARTICLE.encode()),
        "/to-private": lambda h: h.redirect("/private/secret"),
        "/to-metadata": lambda h: h.redirect("http://169.254.169.254/latest/meta-data/"),
        "/to-intranet": lambda h: h.redirect("http://10.0.0.1/admin", status=307),
        "/to-ftp": lambda h: h.redirect("ftp://127.0.0.1/file"),
        "/gone": lambda h: h.reply(410, "text/html", b"gone"),
    }
    for n in range(1, 9):
        Handler.routes[f"/chain/{n}"] = (lambda n: lambda h: h.redirect(f"/chain/{n - 1}"))(n)
    Handler.routes["/chain/0"] = Handler.routes["/article"]
    settings.MEMORY_POSTS_FETCH_ALLOW_PRIVATE = True
    settings.MEMORY_POSTS_FETCH_READ_TIMEOUT_SECONDS = 0.5
    settings.MEMORY_POSTS_FETCH_CONNECT_TIMEOUT_SECONDS = 0.5
    settings.MEMORY_POSTS_FETCH_TOTAL_TIMEOUT_SECONDS = 3.0
    settings.MEMORY_POSTS_FETCH_MAX_BYTES = 1024 * 1024
    settings.MEMORY_POSTS_FETCH_MAX_REDIRECTS = 5
    yield base, Handler
    server.shutdown()
    server.server_close()


def refused(url, **kwargs):
    with pytest.raises(FetchRefused) as caught:
        fetch_page(url, **kwargs)
    return caught.value.reason


def test_an_article_gives_its_title_and_main_text_without_the_page_chrome(site):
    base, _ = site
    page = fetch_page(f"{base}/article")
    assert (page.url, page.final_url, page.status, page.content_type) == (
        f"{base}/article", f"{base}/article", 200, "text/html")
    assert page.title == "Quiet harbour reopens after storm"
    assert "reopened on Tuesday after three weeks of repairs" in page.text
    assert "Ferries to the mainland resume" in page.text
    assert "Subscribe to our newsletter" not in page.text and "Sport" not in page.text
    assert page.bytes == len(ARTICLE.encode())


def test_plain_text_is_kept_with_its_whitespace_tidied(site):
    base, _ = site
    page = fetch_page(f"{base}/notes.txt")
    assert (page.content_type, page.title, page.text) == ("text/plain", "Shopping list", "Shopping list\neggs and milk")


def test_a_slow_server_times_out(site):
    base, _ = site
    started = time.monotonic()
    assert refused(f"{base}/slow") == "timeout"
    assert time.monotonic() - started < 1.4


def test_a_server_trickling_bytes_meets_the_call_deadline(site, settings):
    base, _ = site
    settings.MEMORY_POSTS_FETCH_TOTAL_TIMEOUT_SECONDS = 1.0
    started = time.monotonic()
    assert refused(f"{base}/trickle") == "timeout"
    assert time.monotonic() - started < 2.5  # the 100 bytes would take 10 s


def test_a_huge_page_is_refused_by_its_declared_length(site):
    base, _ = site
    assert refused(f"{base}/huge") == "too_large"


def test_a_huge_page_without_a_length_is_cut_off_while_streaming(site):
    base, _ = site
    assert refused(f"{base}/huge-streamed") == "too_large"


def test_an_image_or_an_untyped_body_is_refused(site):
    base, _ = site
    assert refused(f"{base}/image.png") == "content_type"
    assert refused(f"{base}/no-type") == "content_type"


def test_a_redirect_loop_is_refused(site):
    base, _ = site
    assert refused(f"{base}/loop/a") == "redirects"


def test_redirects_are_followed_up_to_the_limit(site, settings):
    base, _ = site
    assert fetch_page(f"{base}/chain/5").final_url == f"{base}/chain/0"
    assert refused(f"{base}/chain/6") == "redirects"
    settings.MEMORY_POSTS_FETCH_MAX_REDIRECTS = 0
    assert refused(f"{base}/chain/1") == "redirects"


def test_an_error_status_is_refused_with_its_code(site):
    base, _ = site
    assert refused(f"{base}/nowhere") == "http_404"
    assert refused(f"{base}/gone") == "http_410"


def test_robots_txt_is_respected_for_the_page_and_for_every_redirect_hop(site):
    base, handler = site
    assert refused(f"{base}/private/secret") == "robots"
    assert refused(f"{base}/to-private") == "robots"
    assert "/private/secret" not in handler.seen
    # One robots.txt per origin and call, however many hops.
    handler.seen.clear()
    fetch_page(f"{base}/chain/3")
    assert handler.seen.count("/robots.txt") == 1


def test_a_robots_txt_that_fails_refuses_and_a_missing_one_allows(site):
    base, handler = site
    handler.robots_status = 503
    assert refused(f"{base}/article") == "robots"
    handler.robots_status = 404
    assert fetch_page(f"{base}/article").title == "Quiet harbour reopens after storm"


def test_a_loopback_address_is_refused_unless_allowed(site, settings):
    base, handler = site
    settings.MEMORY_POSTS_FETCH_ALLOW_PRIVATE = False
    handler.seen.clear()
    assert refused(f"{base}/article") == "private_address"
    assert handler.seen == []  # refused before any connection, robots.txt included
    assert fetch_page(f"{base}/article", allow_private=True).status == 200
    assert refused(f"{base}/article", allow_private=False) == "private_address"


def test_a_redirect_to_a_private_address_is_refused_when_not_allowed(site, settings):
    base, _ = site
    # Only the test server's own address is reachable; everything else private stays out.
    settings.MEMORY_POSTS_FETCH_ALLOW_PRIVATE = False
    settings.MEMORY_POSTS_FETCH_ALLOWED_NETWORKS = ("127.0.0.1/32",)
    assert fetch_page(f"{base}/article").status == 200
    assert refused(f"{base}/to-metadata") == "private_address"
    assert refused(f"{base}/to-intranet") == "private_address"
    settings.MEMORY_POSTS_FETCH_ALLOWED_NETWORKS = ()
    assert refused(f"{base}/article") == "private_address"


@pytest.mark.parametrize("address, public", [
    ("93.184.215.14", True), ("2606:4700::1111", True),
    ("127.0.0.1", False), ("10.1.2.3", False), ("172.16.0.1", False), ("192.168.1.1", False),
    ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False), ("224.0.0.1", False),
    ("255.255.255.255", False), ("192.0.2.1", False), ("::1", False), ("fe80::1", False),
    ("fd00::1", False), ("2001:db8::1", False), ("::ffff:127.0.0.1", False), ("::ffff:10.0.0.1", False),
    ("::ffff:93.184.215.14", True), ("ff02::1", False),
])
def test_only_public_internet_addresses_count_as_public(address, public):
    assert is_public_address(ipaddress.ip_address(address)) is public


def test_other_schemes_and_broken_urls_are_refused(site):
    base, _ = site
    assert refused("file:///etc/passwd") == "url"
    assert refused("ftp://127.0.0.1/file") == "url"
    assert refused("http://") == "url"
    assert refused(f"{base}/to-ftp") == "url"
    assert refused("http://no-such-host.invalid/") == "dns"


def test_a_closed_port_is_a_connection_refusal(site):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    port = server.server_address[1]
    server.server_close()
    assert refused(f"http://127.0.0.1:{port}/") == "connection"


def test_the_plain_extractor_keeps_text_and_drops_scripts_and_chrome():
    title, text = plain_html_to_text(
        "<html><head><title> A   page </title><script>var x = 1;</script></head>"
        "<body><nav>menu</nav><main><p>First line</p><p>Second   line</p></main></body></html>")
    assert (title, text) == ("A page", "First line\nSecond line")


def test_a_page_trafilatura_finds_nothing_in_falls_back_to_the_plain_extractor():
    # Only a title and a table cell: no paragraph trafilatura calls main text.
    title, text = extract_main_text(b"<html><head><title>Tiny</title></head><body><div>ok</div></body></html>")
    assert title == "Tiny"
    assert text == "ok"


def test_a_declared_charset_is_honoured():
    body = "<html><head><title>Café</title></head><body><p>Crème brûlée</p></body></html>".encode("latin-1")
    title, text = extract_main_text(body, charset="iso-8859-1")
    assert (title, text) == ("Café", "Crème brûlée")


html_fragments = st.lists(st.one_of(
    st.sampled_from(["<html>", "</html>", "<head>", "<title>", "</title>", "<body>", "<p>", "</p>",
                     "<article>", "</article>", "<script>", "</script>", "<nav>", "<!--", "-->",
                     "<![CDATA[", "]]>", "<meta charset='x-unknown'>", "&amp;", "&#0;", "&#xD800;",
                     "<div <p", "\x00", "<?xml version='1.0'?>", "<svg><foreignObject>"]),
    st.text(max_size=40),
), max_size=40).map("".join)


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.one_of(st.binary(max_size=2000), html_fragments, html_fragments.map(str.encode)),
       content_type=st.sampled_from(["text/html", "application/xhtml+xml", "text/plain"]),
       charset=st.sampled_from([None, "utf-8", "latin-1", "x-no-such-charset"]))
def test_the_extractor_never_raises_on_arbitrary_input(body, content_type, charset):
    # The strict path, under extract_main_text's last-resort guard: nothing here may escape.
    title, text = extract_title_and_text(body, content_type, charset=charset)
    assert isinstance(title, str) and isinstance(text, str)
    assert "\x00" not in text and "\n\n" not in text


@pytest.fixture
def tls_site(tmp_path, settings):
    """An HTTPS server on 127.0.0.1 with a certificate for "localhost" only, trusted through the setting."""
    import datetime
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))

    hosts = []

    class Handler(Site):
        seen = []
        routes = {"/article": lambda h: (hosts.append(h.headers["Host"]), h.reply(200, "text/html", ARTICLE.encode()))}

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    names = []
    context.sni_callback = lambda sock, server_name, ctx: names.append(server_name)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.MEMORY_POSTS_FETCH_ALLOW_PRIVATE = True
    settings.MEMORY_POSTS_FETCH_CA_BUNDLE = str(tmp_path / "cert.pem")
    yield server.server_address[1], names, hosts
    server.shutdown()
    server.server_close()


def test_https_goes_to_the_checked_address_with_the_link_s_name_for_tls_and_host(tls_site):
    port, names, hosts = tls_site
    page = fetch_page(f"https://localhost:{port}/article")
    assert page.title == "Quiet harbour reopens after storm"
    assert set(names) == {"localhost"}  # SNI carries the name although we connect to the address
    assert hosts == [f"localhost:{port}"]
    # The certificate is checked against the name: by address it is not valid.
    assert refused(f"https://127.0.0.1:{port}/article") == "connection"
