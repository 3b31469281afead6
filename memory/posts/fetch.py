"""Fetch a page linked from a post, every hop checked and bounded; its title and main text out.

A post's links point anywhere, so each hop (the first request, every redirect, robots.txt) is a new
decision: the URL must be http(s), every address its host resolves to must be public (unless the
settings allow private ones), robots.txt must allow it, and the connection goes to the address that
was checked (not a second DNS answer: that is how DNS rebinding reaches an internal service).
Time is bounded per read and per call, size while streaming, redirects by count.
"""

import codecs
import ipaddress
import logging
import socket
import ssl
import time
from dataclasses import dataclass

import httpx
from django.core.exceptions import ImproperlyConfigured

from memory.conf import memory_settings
from memory.posts.robots import RobotsRules

logger = logging.getLogger(__name__)

ALLOWED_TYPES = frozenset({"text/html", "text/plain", "application/xhtml+xml"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309: a crawler reads at least 500 KiB of robots.txt
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class FetchedPage:
    url: str  # as asked for
    final_url: str  # after redirects
    status: int
    content_type: str  # the media type alone, e.g. "text/html"
    title: str
    text: str
    bytes: int  # body size as received (after content decoding)


class FetchRefused(ValueError):
    """A page not fetched; `reason` is short and machine-readable ("private_address", "http_404")."""

    def __init__(self, reason, detail=""):
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


@dataclass(frozen=True)
class Limits:
    connect_seconds: float
    read_seconds: float
    total_seconds: float
    max_bytes: int
    max_redirects: int
    allow_private: bool
    allowed_networks: tuple
    user_agent: str
    ca_bundle: str

    @classmethod
    def from_settings(cls, allow_private=None):
        try:
            networks = tuple(ipaddress.ip_network(str(n).strip(), strict=False)
                             for n in memory_settings.POSTS_FETCH_ALLOWED_NETWORKS if str(n).strip())
        except ValueError as exc:
            raise ImproperlyConfigured(f"MEMORY_POSTS_FETCH_ALLOWED_NETWORKS: {exc}") from exc
        return cls(
            connect_seconds=memory_settings.POSTS_FETCH_CONNECT_TIMEOUT_SECONDS,
            read_seconds=memory_settings.POSTS_FETCH_READ_TIMEOUT_SECONDS,
            total_seconds=memory_settings.POSTS_FETCH_TOTAL_TIMEOUT_SECONDS,
            max_bytes=memory_settings.POSTS_FETCH_MAX_BYTES,
            max_redirects=memory_settings.POSTS_FETCH_MAX_REDIRECTS,
            allow_private=bool(memory_settings.POSTS_FETCH_ALLOW_PRIVATE if allow_private is None
                               else allow_private),
            allowed_networks=networks,
            user_agent=memory_settings.POSTS_FETCH_USER_AGENT,
            ca_bundle=memory_settings.POSTS_FETCH_CA_BUNDLE,
        )


def fetch_page(url, *, allow_private=None):
    """Fetch one page and extract its title and main text, or raise FetchRefused saying why not."""
    limits = Limits.from_settings(allow_private)
    with PageFetcher(limits) as fetcher:
        return fetcher.page(url)


def is_public_address(ip):
    """Whether an address is on the public internet (not private, loopback, link-local, reserved...)."""
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class PageFetcher:
    """One call's client, deadline and robots.txt cache (per origin, for this call only)."""

    def __init__(self, limits):
        self.limits = limits
        self.deadline = time.monotonic() + limits.total_seconds
        self.robots = {}
        # Our own redirect loop (every hop checked), no cookies kept, no proxy from the environment:
        # the connection must go to the address we checked.
        verify = ssl.create_default_context(cafile=limits.ca_bundle) if limits.ca_bundle else True
        self.client = httpx.Client(follow_redirects=False, trust_env=False, verify=verify, headers={
            "User-Agent": limits.user_agent,
            "Accept": "text/html,application/xhtml+xml,text/plain;q=0.9",
            # Ask for the body as is: a compressed body could expand far past the size cap in one read.
            "Accept-Encoding": "identity",
        })

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.client.close()

    def page(self, url):
        response, final_url = self.follow(url, check_robots=True)
        try:
            if not 200 <= response.status_code < 300:
                raise FetchRefused(f"http_{response.status_code}", str(final_url))
            media_type, charset = content_type_of(response)
            if media_type not in ALLOWED_TYPES:
                raise FetchRefused("content_type", media_type or "missing")
            body = self.read(response, self.limits.max_bytes)
        finally:
            response.close()
        title, text = extract_main_text(body, media_type, charset=charset, url=str(final_url))
        return FetchedPage(url=url, final_url=str(final_url), status=response.status_code,
                           content_type=media_type, title=title, text=text, bytes=len(body))

    def follow(self, url, *, check_robots):
        """The open (streaming) response at the end of the redirects, and its URL."""
        current, seen = self.parse(url), set()
        for _ in range(self.limits.max_redirects + 1):
            if check_robots:
                self.check_robots(current)
            seen.add(current)
            response = self.send(current)
            location = response.headers.get("location")
            if response.status_code not in REDIRECT_STATUSES or not location:
                return response, current
            response.close()
            try:
                current = self.parse(current.join(location))
            except httpx.InvalidURL as exc:
                raise FetchRefused("url", location) from exc
            if current in seen:
                raise FetchRefused("redirects", f"loop at {current}")
        raise FetchRefused("redirects", f"more than {self.limits.max_redirects}")

    def parse(self, url):
        try:
            url = httpx.URL(str(url))
        except (httpx.InvalidURL, TypeError) as exc:
            raise FetchRefused("url", str(url)) from exc
        if url.scheme not in DEFAULT_PORTS or not url.host:
            raise FetchRefused("url", str(url))
        # No credentials travel to a link's host, and the fragment is the browser's business.
        return url.copy_with(username=None, password=None, fragment=None)

    def send(self, url):
        """GET the URL from the first of its host's checked addresses that answers (left open to stream)."""
        addresses = self.checked_addresses(url)
        host = url.raw_host.decode("ascii")
        for position, address in enumerate(addresses):
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise FetchRefused("timeout", "call deadline")
            timeout = httpx.Timeout(min(self.limits.read_seconds, remaining),
                                    connect=min(self.limits.connect_seconds, remaining))
            request = self.client.build_request(
                "GET", url.copy_with(host=address), timeout=timeout,
                headers={"Host": url.netloc.decode("ascii")},
                # TLS verifies the certificate against the link's name, not the address we dial.
                extensions={"sni_hostname": host} if url.scheme == "https" else None,
            )
            try:
                return self.client.send(request, stream=True)
            except httpx.ConnectError as exc:
                # Refused or unreachable (an IPv6 answer on an IPv4-only network): try the next one.
                if position == len(addresses) - 1:
                    raise FetchRefused("connection", f"{url}: {exc}") from exc
            except httpx.TimeoutException as exc:
                raise FetchRefused("timeout", str(url)) from exc
            except httpx.HTTPError as exc:
                raise FetchRefused("connection", f"{url}: {exc}") from exc
        raise AssertionError("checked_addresses returns at least one address")

    def checked_addresses(self, url):
        """The addresses the URL's host resolves to, once every one of them is known to be allowed."""
        port = url.port or DEFAULT_PORTS[url.scheme]
        host = url.raw_host.decode("ascii")
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise FetchRefused("dns", host) from exc
        addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos))
        if not addresses:
            raise FetchRefused("dns", host)
        # Every answer is checked: a name resolving to one public and one internal address is refused.
        for ip in addresses:
            if not self.allowed(ip):
                raise FetchRefused("private_address", f"{host} -> {ip}")
        return [str(ip) for ip in addresses]

    def allowed(self, ip):
        if self.limits.allow_private or is_public_address(ip):
            return True
        plain = ip.ipv4_mapped if ip.version == 6 and ip.ipv4_mapped is not None else ip
        return any(plain in network for network in self.limits.allowed_networks)

    def read(self, response, cap, *, truncate=False):
        """The body, at most `cap` bytes (FetchRefused "too_large" past it, or cut when truncating)."""
        declared = response.headers.get("content-length", "")
        if not truncate and declared.isdigit() and int(declared) > cap:
            raise FetchRefused("too_large", f"content-length {declared} > {cap}")
        chunks, size = [], 0
        try:
            for chunk in response.iter_bytes():  # as received: a chunk size would wait to fill it
                size += len(chunk)
                if size > cap:
                    if truncate:
                        chunks.append(chunk[: cap - (size - len(chunk))])
                        break
                    raise FetchRefused("too_large", f"more than {cap} bytes")
                chunks.append(chunk)
                # The read timeout bounds one read; a server trickling bytes meets the call's deadline.
                if time.monotonic() > self.deadline:
                    raise FetchRefused("timeout", "call deadline")
        except httpx.TimeoutException as exc:
            raise FetchRefused("timeout", "reading the body") from exc
        except httpx.HTTPError as exc:
            raise FetchRefused("connection", f"reading the body: {exc}") from exc
        return b"".join(chunks)

    def check_robots(self, url):
        origin = url.copy_with(path="/", query=None, fragment=None)
        key = (url.scheme, url.raw_host, url.port)
        if key not in self.robots:
            self.robots[key] = self.load_robots(origin.join("/robots.txt"))
        if not self.robots[key].allows(url.raw_path.decode("ascii")):
            raise FetchRefused("robots", str(url))

    def load_robots(self, robots_url):
        """The origin's rules, read the way RFC 9309 says: 4xx allows all, 5xx or unreachable none."""
        try:
            response, _ = self.follow(robots_url, check_robots=False)
        except FetchRefused as exc:
            if exc.reason == "redirects":  # "MAY assume that the robots.txt file is unavailable"
                return RobotsRules()
            raise  # unreachable (timeout, connection) means disallowed: the page is not fetched
        try:
            status = response.status_code
            if 400 <= status < 500:
                return RobotsRules()
            if not 200 <= status < 300:
                raise FetchRefused("robots", f"robots.txt answered {status}")
            _, charset = content_type_of(response)
            body = self.read(response, ROBOTS_MAX_BYTES, truncate=True)
        finally:
            response.close()
        # The product token robots.txt groups name: "EngramBot" of "EngramBot/0.1 (+...)".
        token = (self.limits.user_agent.split("/")[0].split() or ["*"])[0]
        return RobotsRules.parse(decode(body, charset or "utf-8"), token)


def content_type_of(response):
    """The media type (lower case) and the declared charset (or None) of a response."""
    header = response.headers.get("content-type", "")
    media_type, _, params = header.partition(";")
    charset = None
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip("\"'")
    return media_type.strip().lower(), charset


def decode(body, charset):
    """Text from bytes in the declared charset, else UTF-8, never failing (bad bytes replaced)."""
    try:
        codecs.lookup(charset)
    except (LookupError, TypeError):
        charset = "utf-8"
    try:
        return body.decode(charset)
    except UnicodeDecodeError:
        return body.decode("utf-8", errors="replace")


def extract_main_text(body, content_type="text/html", *, charset=None, url=None):
    """A page's (title, main text), or empty strings when it cannot be read; never raises."""
    try:
        return extract_title_and_text(body, content_type, charset=charset, url=url)
    except Exception:  # noqa: BLE001 - a hostile page must not fail the job; it just has no text
        logger.warning("extracting %s failed", url or "a page", exc_info=True)
        return "", ""


def extract_title_and_text(body, content_type="text/html", *, charset=None, url=None):
    """A page's (title, main text): trafilatura first, a plain HTML-to-text when it finds nothing."""
    if isinstance(body, bytes):
        # Without a declared charset trafilatura guesses from the bytes (and <meta charset>).
        body = decode(body, charset) if charset or content_type == "text/plain" else body
    if content_type == "text/plain":
        text = normalise_text(body)
        return first_line(text), text
    title, text = extract_with_trafilatura(body, url)
    if text:
        return title or plain_title(body), text
    return plain_html_to_text(body)


def extract_with_trafilatura(body, url):
    import trafilatura  # a heavy import (lxml, dateparser): only workers that enrich pay for it

    try:
        document = trafilatura.bare_extraction(body, url=url, with_metadata=True, include_comments=False)
    except Exception:  # noqa: BLE001 - trafilatura raises assorted lxml/parser errors on broken markup
        logger.debug("trafilatura could not read %s", url or "a page", exc_info=True)
        return "", ""
    if document is None:
        return "", ""
    return " ".join((document.title or "").split()), normalise_text(document.text or "")


NOISE_TAGS = "script, style, noscript, nav, header, footer, aside, form, iframe, svg, template"


def plain_html_to_text(body):
    """(title, text) by dropping the obvious chrome and keeping every text node."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(body if isinstance(body, str) else decode(body, "utf-8"))
    title = plain_title(tree)
    for node in tree.css(NOISE_TAGS):
        node.decompose()
    root = tree.css_first("main") or tree.css_first("article") or tree.body or tree.root
    text = normalise_text(root.text(separator="\n")) if root is not None else ""
    return title, text


def plain_title(source):
    from selectolax.lexbor import LexborHTMLParser

    tree = source if isinstance(source, LexborHTMLParser) else LexborHTMLParser(
        source if isinstance(source, str) else decode(source, "utf-8"))
    node = tree.css_first("title")
    return " ".join(node.text().split()) if node is not None else ""


def normalise_text(text):
    """Lines with their runs of whitespace collapsed, empty lines dropped, NULs removed."""
    lines = (" ".join(line.replace("\x00", "").split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def first_line(text, limit=200):
    return text.split("\n", 1)[0][:limit]
