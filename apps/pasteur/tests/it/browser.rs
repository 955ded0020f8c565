//! A real browser: headless Chromium driven through chromedriver's W3C
//! WebDriver HTTP API (with curl and serde_json: no browser-automation
//! crate, so no second TLS stack in the tree). Creates a paste through
//! the form (Ctrl+Enter), sees it highlighted, opens raw, deletes it;
//! an encrypted paste round-trips through the fragment key; an HTML paste
//! does not run. A screenshot is kept under `target/pasteur-e2e/`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

use crate::support::{TestResult, curl, paste, site};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Driver {
    child: Child,
    url: String,
    session: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = Command::new("curl")
            .args(["-s", "--max-time", "5", "-X", "DELETE"])
            .arg(format!("{}/session/{}", self.url, self.session))
            .output();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn call(method: &str, url: String, body: Option<Value>) -> Value {
    let mut args = vec![
        "-X".to_string(),
        method.to_string(),
        "-H".into(),
        "Content-Type: application/json".into(),
    ];
    if let Some(body) = body {
        args.push("--data-binary".into());
        args.push(body.to_string());
    }
    args.push(url);
    let reply = tokio::task::spawn_blocking(move || crate::support::curl_blocking(&args))
        .await
        .expect("curl ran");
    let value: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
    assert!(reply.status < 400, "webdriver {method}: {} {value}", reply.status);
    value["value"].clone()
}

impl Driver {
    async fn start() -> Result<Option<Driver>, Box<dyn std::error::Error + Send + Sync>> {
        let Some(driver) = testkit::peer::find_binary("chromedriver", "chromium-driver")? else {
            return Ok(None);
        };
        let Some(chromium) = testkit::peer::find_binary("chromium", "chromium")? else {
            return Ok(None);
        };
        let port = testkit::peer::free_port()?;
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let url = format!("http://127.0.0.1:{port}");
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "chromedriver did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir()?;
        // The flags this machine needs (closed network, root, no GPU).
        let args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--window-size=1100,800".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium, "args": args }
        }}});
        let mut driver = Driver {
            child,
            url,
            session: String::new(),
            _profile: profile,
        };
        let session = call("POST", format!("{}/session", driver.url), Some(caps)).await;
        driver.session = session["sessionId"].as_str().unwrap_or_default().to_string();
        assert!(!driver.session.is_empty(), "a session: {session}");
        Ok(Some(driver))
    }

    fn at(&self, path: &str) -> String {
        format!("{}/session/{}{path}", self.url, self.session)
    }

    async fn go(&self, url: &str) {
        call("POST", self.at("/url"), Some(json!({ "url": url }))).await;
    }

    async fn find(&self, css: &str) -> String {
        let found = call(
            "POST",
            self.at("/element"),
            Some(json!({ "using": "css selector", "value": css })),
        )
        .await;
        found[ELEMENT].as_str().unwrap_or_default().to_string()
    }

    async fn count(&self, css: &str) -> usize {
        let found = call(
            "POST",
            self.at("/elements"),
            Some(json!({ "using": "css selector", "value": css })),
        )
        .await;
        found.as_array().map_or(0, Vec::len)
    }

    async fn wait_for(&self, css: &str) -> String {
        let start = Instant::now();
        while self.count(css).await == 0 {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "no {css} on {}",
                self.current().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.find(css).await
    }

    async fn click(&self, element: &str) {
        call(
            "POST",
            self.at(&format!("/element/{element}/click")),
            Some(json!({})),
        )
        .await;
    }

    async fn keys(&self, element: &str, text: &str) {
        call(
            "POST",
            self.at(&format!("/element/{element}/value")),
            Some(json!({ "text": text })),
        )
        .await;
    }

    async fn text(&self, element: &str) -> String {
        call("GET", self.at(&format!("/element/{element}/text")), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    async fn attribute(&self, element: &str, name: &str) -> String {
        call(
            "GET",
            self.at(&format!("/element/{element}/attribute/{name}")),
            None,
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    async fn title(&self) -> String {
        call("GET", self.at("/title"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    async fn current(&self) -> String {
        call("GET", self.at("/url"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    async fn select(&self, css: &str, value: &str) {
        let element = self.find(&format!("{css} option[value='{value}']")).await;
        self.click(&element).await;
    }

    async fn screenshot(&self, name: &str) -> Result<PathBuf, Box<dyn std::error::Error + Send + Sync>> {
        let png = call("GET", self.at("/screenshot"), None).await;
        let bytes = base64::engine::general_purpose::STANDARD.decode(png.as_str().unwrap_or_default())?;
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
        let dir = target.join("pasteur-e2e");
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(name);
        std::fs::write(&path, bytes)?;
        Ok(path)
    }
}

const CODE: &str = "fn main() {\n    let answer = 42;\n    println!(\"{answer}\");\n}\n";

#[tokio::test(flavor = "multi_thread")]
async fn a_browser_creates_views_and_deletes_a_paste() -> TestResult {
    let Some(driver) = Driver::start().await? else {
        return Ok(());
    };
    let s = site(|_| {}).await;

    // The form: title, language, Ctrl+Enter.
    driver.go(&format!("{}/", s.base)).await;
    let title = driver.wait_for("#title").await;
    driver.keys(&title, "browser paste").await;
    driver.select("#lang", "rs").await;
    let content = driver.find("#content").await;
    driver.keys(&content, CODE).await;
    driver.keys(&content, "\u{E009}\u{E007}").await; // Ctrl+Enter
    let link = driver.wait_for("#paste-link").await;
    let url = driver.attribute(&link, "href").await;
    let delete = driver.attribute(&driver.find("#delete-link").await, "href").await;
    assert!(url.starts_with(&s.base), "{url}");

    // Highlighted, with numbered, linkable lines.
    driver.go(&format!("{url}#L2")).await;
    driver.wait_for("pre.code").await;
    assert!(driver.count(".hl-source").await > 0, "highlighted");
    assert_eq!(driver.count("pre.code .line").await, 4);
    assert!(driver.title().await.starts_with("browser paste"));
    let shot = driver.screenshot("paste.png").await?;
    assert!(
        std::fs::metadata(&shot)?.len() > 1000,
        "a screenshot at {}",
        shot.display()
    );

    // Raw.
    driver.click(&driver.find("#raw").await).await;
    let body = driver.wait_for("body").await;
    assert_eq!(driver.text(&body).await.trim_end(), CODE.trim_end());

    // Delete through the link shown once.
    driver.go(&delete).await;
    let confirm = driver.wait_for("#confirm-delete").await;
    driver.click(&confirm).await;
    let message = driver.wait_for("#message").await;
    assert!(driver.text(&message).await.contains("is deleted"));
    assert_eq!(curl(&[&url]).await.status, 404);

    // Encrypted in the browser: the server keeps ciphertext, the fragment
    // key decrypts it.
    driver.go(&format!("{}/", s.base)).await;
    let content = driver.wait_for("#content").await;
    driver.keys(&content, "top secret text").await;
    driver.click(&driver.find("#encrypt").await).await;
    driver.click(&driver.find("#submit").await).await;
    let link = driver
        .wait_for("#encrypted-result:not([hidden]) #encrypted-link")
        .await;
    let secret_url = driver.attribute(&link, "href").await;
    let (plain_url, key) = secret_url.split_once('#').ok_or("a key in the fragment")?;
    assert!(!key.is_empty());
    let id = plain_url.rsplit('/').next().unwrap_or_default();
    let stored = curl(&[&format!("{}/raw/{id}", s.base)]).await.text();
    assert!(!stored.contains("top secret"), "ciphertext only: {stored}");
    driver.go(&secret_url).await;
    let start = Instant::now();
    loop {
        let text = driver.text(&driver.find("#decrypted").await).await;
        if text == "top secret text" {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "not decrypted: {text:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_html_paste_does_not_run_in_the_browser() -> TestResult {
    let Some(driver) = Driver::start().await? else {
        return Ok(());
    };
    let s = site(|_| {}).await;
    let evil = b"<html><head><title>pwned</title></head><body><script>document.title='pwned'</script>\
<img src=x onerror=\"document.title='pwned'\"><svg onload=\"document.title='pwned'\"></svg></body></html>\n";
    for query in ["?lang=html", "?lang=txt", ""] {
        let url = paste(&s.base, query, evil).await.text().trim().to_string();
        let id = url.rsplit('/').next().unwrap_or_default().to_string();
        for page in [
            url.clone(),
            format!("{url}?raw=true"),
            format!("{}/raw/{id}", s.base),
            format!("{url}?hl=html&ln=false"),
        ] {
            driver.go(&page).await;
            driver.wait_for("body").await;
            let title = driver.title().await;
            assert_ne!(title, "pwned", "{page} ran the paste");
        }
        // The page shows the markup as text.
        driver.go(&url).await;
        let code = driver.wait_for("pre.code").await;
        assert!(
            driver
                .text(&code)
                .await
                .contains("<script>document.title='pwned'</script>")
        );
    }
    Ok(())
}
