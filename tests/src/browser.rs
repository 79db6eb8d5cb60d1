//! Driving a real headless browser from host tests: a static file server on
//! loopback, `chromedriver` started on a free loopback port, and the few
//! W3C WebDriver commands the tests use (open a page, find, click, type,
//! press keys, run a script), over plain HTTP/1.1. ChromeDriver and the
//! browser it starts are always stopped when the [`Browser`] is dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The key WebDriver sends for Enter.
pub const ENTER: &str = "\u{E007}";

/// Serves the files of `root` on `127.0.0.1` (a free port) from a
/// background thread for the rest of the test process; returns the base
/// address, e.g. `http://127.0.0.1:40123`.
pub fn serve_dir(root: &Path) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    let root = root.to_path_buf();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let root = root.clone();
            thread::spawn(move || serve_one(stream, &root));
        }
    });
    format!("http://{addr}")
}

/// Answers one GET request with the named file of `root` (404 otherwise).
fn serve_one(mut stream: TcpStream, root: &Path) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    // Skip the headers.
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
        line.clear();
    }
    let target = request.split_whitespace().nth(1).unwrap_or("/");
    let path = target.split('?').next().unwrap_or("/");
    let name = if path == "/" {
        "index.html"
    } else {
        path.trim_start_matches('/')
    };
    let file = (!name.contains("..")).then(|| root.join(name));
    let (status, body, kind) = match file.and_then(|f| std::fs::read(&f).ok().map(|b| (f, b))) {
        Some((f, body)) => ("200 OK", body, content_type(&f)),
        None => ("404 Not Found", b"not found".to_vec(), "text/plain"),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("css") => "text/css",
        Some("wasm") => "application/wasm",
        _ => "application/octet-stream",
    }
}

/// A headless Chromium driven through ChromeDriver.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts `chromedriver` and a headless Chromium session (Debian's
    /// `/usr/bin/chromium` unless `CHROME` names another binary).
    pub fn start() -> Browser {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::tempdir().expect("browser profile folder");
        let mut browser = Browser {
            driver,
            base: format!("127.0.0.1:{port}"),
            session: String::new(),
            _profile: profile,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while browser.http("GET", "/status", None).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            thread::sleep(Duration::from_millis(100));
        }
        let binary = std::env::var("CHROME").unwrap_or_else(|_| "/usr/bin/chromium".into());
        // The flags keep a root, sandbox-less machine without a network quiet.
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=900,1000",
            &format!("--user-data-dir={}", browser._profile.path().display()),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": binary, "args": args}
        }}});
        let value = browser.command("POST", "/session", Some(caps));
        browser.session = value["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {value}"))
            .to_string();
        browser
    }

    /// Opens `url` and waits for the page to load.
    pub fn open(&mut self, url: &str) {
        self.session_command("POST", "url", json!({ "url": url }));
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page
    /// and returns its result.
    pub fn run(&mut self, script: &str, args: Value) -> Value {
        self.session_command(
            "POST",
            "execute/sync",
            json!({"script": script, "args": args}),
        )
    }

    /// Runs `script` until it returns something other than `null`/`false`,
    /// for up to `timeout`; returns that value.
    pub fn wait_for(&mut self, script: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let value = self.run(script, json!([]));
            if !(value.is_null() || value == json!(false)) {
                return value;
            }
            assert!(Instant::now() < deadline, "timed out waiting for: {script}");
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// The element matching CSS `selector`.
    pub fn find(&mut self, selector: &str) -> String {
        let value = self.session_command(
            "POST",
            "element",
            json!({"using": "css selector", "value": selector}),
        );
        value
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {selector}: {value}"))
            .to_string()
    }

    /// Clicks the element matching `selector`, as a person would.
    pub fn click(&mut self, selector: &str) {
        let id = self.find(selector);
        self.session_command("POST", &format!("element/{id}/click"), json!({}));
    }

    /// Clears the input matching `selector` and types `text` into it (for
    /// a file input: a file's path, which uploads it).
    pub fn type_into(&mut self, selector: &str, text: &str, clear: bool) {
        let id = self.find(selector);
        if clear {
            self.session_command("POST", &format!("element/{id}/clear"), json!({}));
        }
        self.session_command(
            "POST",
            &format!("element/{id}/value"),
            json!({ "text": text }),
        );
    }

    /// Presses and releases `key` on the keyboard (focus where it is).
    pub fn press(&mut self, key: &str) {
        let actions = json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
            {"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}
        ]}]});
        self.session_command("POST", "actions", actions);
    }

    /// A PNG screenshot of the page.
    pub fn screenshot(&mut self) -> Vec<u8> {
        let value = self.session_command("GET", "screenshot", Value::Null);
        decode_base64(value.as_str().expect("screenshot is base64"))
    }

    fn session_command(&mut self, method: &str, path: &str, body: Value) -> Value {
        let path = format!("/session/{}/{path}", self.session);
        let body = (!body.is_null()).then_some(body);
        self.command(method, &path, body)
    }

    /// One WebDriver command; panics with the driver's message on an error.
    fn command(&mut self, method: &str, path: &str, body: Option<Value>) -> Value {
        let reply = self
            .http(method, path, body.as_ref())
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        let value: Value = serde_json::from_str(&reply)
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}: {reply}"));
        if let Some(error) = value["value"]["error"].as_str() {
            panic!(
                "WebDriver {method} {path}: {error}: {}",
                value["value"]["message"]
            );
        }
        value["value"].clone()
    }

    fn http(&self, method: &str, path: &str, body: Option<&Value>) -> std::io::Result<String> {
        let mut stream = TcpStream::connect(&self.base)?;
        stream.set_read_timeout(Some(Duration::from_secs(120)))?;
        let body = body.map(Value::to_string).unwrap_or_default();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.base,
            body.len()
        )?;
        // ChromeDriver keeps the connection open: read by Content-Length.
        let mut reader = BufReader::new(stream);
        let (mut length, mut chunked) = (None, false);
        let mut line = String::new();
        while reader.read_line(&mut line)? > 2 {
            let lower = line.trim().to_ascii_lowercase();
            if let Some(n) = lower.strip_prefix("content-length:") {
                length = n.trim().parse::<usize>().ok();
            }
            chunked |= lower == "transfer-encoding: chunked";
            line.clear();
        }
        let mut body = Vec::new();
        match length {
            Some(n) => {
                body.resize(n, 0);
                reader.read_exact(&mut body)?;
            }
            None if chunked => loop {
                let mut size = String::new();
                reader.read_line(&mut size)?;
                let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
                let mut chunk = vec![0; n + 2];
                reader.read_exact(&mut chunk)?;
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..n]);
            },
            None => {
                reader.read_to_end(&mut body)?;
            }
        }
        Ok(String::from_utf8_lossy(&body).into_owned())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let path = format!("/session/{}", self.session);
            let _ = self.http("DELETE", &path, None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Decodes standard base64 (as WebDriver screenshots are).
pub fn decode_base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let digits: Vec<u8> = text.bytes().filter(|&c| c != b'=').map(value).collect();
    digits
        .chunks(4)
        .flat_map(|q| {
            let n = q
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, &d)| n | u32::from(d) << (18 - 6 * i));
            let bytes = n.to_be_bytes();
            bytes[1..q.len()].to_vec()
        })
        .collect()
}

/// Decodes lowercase hex (how the tests carry a canvas's bytes out).
pub fn decode_hex(text: &str) -> Vec<u8> {
    text.as_bytes()
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap_or("zz"), 16).expect("hex"))
        .collect()
}

/// Where a site built by `scripts/web.sh build` lands.
pub fn web_site() -> PathBuf {
    crate::qemu::workspace().join("target/web/site")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_hex_decode() {
        assert_eq!(decode_base64("TWFu"), b"Man");
        assert_eq!(decode_base64("TWE="), b"Ma");
        assert_eq!(decode_base64("TQ=="), b"M");
        assert_eq!(decode_hex("00ff7f"), [0, 255, 127]);
    }
}
