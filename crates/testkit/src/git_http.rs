//! `git http-backend` behind nginx (Debian packages `nginx-light` or
//! `nginx`, and `fcgiwrap`): smart HTTP over http:// and https:// (HTTP/2
//! by ALPN, a certificate from a throwaway [`TestCa`]) on free ports of
//! 127.0.0.1, with push enabled; killed on drop.
//!
//! Three ways in to every repository under [`GitHttp::repos`]:
//!
//! - `/x.git`: anonymous;
//! - `/auth/x.git`: basic auth as [`USER`] / [`PASSWORD`] (an htpasswd
//!   file with a `{SHA}` hash, which nginx reads natively);
//! - `/token/x.git`: `Authorization: Bearer` [`TOKEN`].
//!
//! nginx runs in the foreground (`-p DIR -c CONF -g 'daemon off;'`, workers
//! as root since the temp dir is root's), fcgiwrap on a unix socket in the
//! temp dir.

use std::fs::File;
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use base64::Engine;

use crate::peer::{
    KillGroupOnDrop, PeerError, find_binary, free_port, io_error, wait_for_file, wait_for_port,
};
use crate::tls::TestCa;

/// The user of `/auth/`.
pub const USER: &str = "tester";
/// Its password.
pub const PASSWORD: &str = "s3cret pass";
/// The token of `/token/`.
pub const TOKEN: &str = "tok-0123456789";

/// A running nginx + fcgiwrap + `git http-backend`.
pub struct GitHttp {
    nginx: Option<KillGroupOnDrop>,
    _fcgiwrap: KillGroupOnDrop,
    http: SocketAddr,
    https: SocketAddr,
    ca: TestCa,
    dir: tempfile::TempDir,
}

impl std::fmt::Debug for GitHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHttp")
            .field("http", &self.http)
            .field("https", &self.https)
            .finish_non_exhaustive()
    }
}

impl GitHttp {
    /// Starts fcgiwrap and nginx over a new, empty repository directory.
    /// `Ok(None)` when a binary is missing and `CI` is not `true`.
    pub fn start() -> Result<Option<Self>, PeerError> {
        let mut attempts = 0;
        loop {
            match Self::start_once() {
                Err(PeerError::NotReady { log, .. }) if attempts < 3 && log.contains("in use") => {
                    attempts += 1
                }
                other => return other,
            }
        }
    }

    fn start_once() -> Result<Option<Self>, PeerError> {
        let Some(nginx) = find_binary("nginx", "nginx-light")? else {
            return Ok(None);
        };
        let Some(fcgiwrap) = find_binary("fcgiwrap", "fcgiwrap")? else {
            return Ok(None);
        };
        let Some(git) = find_binary("git", "git")? else {
            return Ok(None);
        };
        let err = io_error("nginx");
        let dir = tempfile::tempdir().map_err(&err)?;
        let d = dir.path();
        std::fs::create_dir(d.join("repos")).map_err(&err)?;
        std::fs::create_dir(d.join("tmp")).map_err(&err)?;
        let out = Command::new(&git)
            .arg("--exec-path")
            .output()
            .map_err(io_error("git"))?;
        let exec_path = String::from_utf8_lossy(&out.stdout).trim().to_string();

        let ca = TestCa::new("testkit git-http CA")?;
        let leaf = ca.issue(&["localhost", "127.0.0.1"])?;
        std::fs::write(d.join("cert.pem"), leaf.chain_pem()).map_err(&err)?;
        std::fs::write(d.join("key.pem"), leaf.key_pem()).map_err(&err)?;
        let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, PASSWORD.as_bytes());
        let hash = base64::engine::general_purpose::STANDARD.encode(sha1.as_ref());
        std::fs::write(d.join("htpasswd"), format!("{USER}:{{SHA}}{hash}\n")).map_err(&err)?;

        // fcgiwrap first: nginx needs its socket.
        let socket = d.join("fcgiwrap.sock");
        let fcgi_log = d.join("fcgiwrap.log");
        let out = File::create(&fcgi_log).map_err(&err)?;
        let child = Command::new(&fcgiwrap)
            .arg("-f")
            .arg("-c")
            .arg("2")
            .arg("-s")
            .arg(format!("unix:{}", socket.display()))
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(out.try_clone().map_err(&err)?)
            .stderr(out)
            .spawn()
            .map_err(io_error("fcgiwrap"))?;
        let mut fcgi = KillGroupOnDrop(child);
        let read_fcgi_log = || std::fs::read_to_string(&fcgi_log).unwrap_or_default();
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        wait_for_file(
            &mut fcgi.0,
            "fcgiwrap",
            any,
            Duration::from_secs(10),
            &socket,
            read_fcgi_log,
        )?;

        let http = SocketAddr::from(([127, 0, 0, 1], free_port().map_err(&err)?));
        let https = SocketAddr::from(([127, 0, 0, 1], free_port().map_err(&err)?));
        let params = d.join("git.params");
        std::fs::write(
            &params,
            format!(
                "fastcgi_pass unix:{socket};\n\
                 fastcgi_param SCRIPT_FILENAME {exec_path}/git-http-backend;\n\
                 fastcgi_param GIT_PROJECT_ROOT {repos};\n\
                 fastcgi_param GIT_HTTP_EXPORT_ALL 1;\n\
                 fastcgi_param QUERY_STRING $query_string;\n\
                 fastcgi_param REQUEST_METHOD $request_method;\n\
                 fastcgi_param CONTENT_TYPE $content_type;\n\
                 fastcgi_param CONTENT_LENGTH $content_length if_not_empty;\n\
                 fastcgi_param REMOTE_USER $remote_user;\n\
                 fastcgi_param REMOTE_ADDR $remote_addr;\n\
                 fastcgi_param SERVER_PROTOCOL $server_protocol;\n\
                 fastcgi_param HTTP_GIT_PROTOCOL $http_git_protocol if_not_empty;\n\
                 fastcgi_param GIT_CONFIG_NOSYSTEM 1;\n\
                 fastcgi_param GIT_CONFIG_GLOBAL /dev/null;\n\
                 fastcgi_param GIT_CONFIG_COUNT 2;\n\
                 fastcgi_param GIT_CONFIG_KEY_0 http.receivepack;\n\
                 fastcgi_param GIT_CONFIG_VALUE_0 true;\n\
                 fastcgi_param GIT_CONFIG_KEY_1 safe.directory;\n\
                 fastcgi_param GIT_CONFIG_VALUE_1 *;\n",
                socket = socket.display(),
                repos = d.join("repos").display(),
            ),
        )
        .map_err(&err)?;
        let tmp = d.join("tmp");
        let conf = d.join("nginx.conf");
        std::fs::write(
            &conf,
            format!(
                "user root;\n\
                 worker_processes 1;\n\
                 pid {dir}/nginx.pid;\n\
                 error_log {dir}/error.log info;\n\
                 events {{ worker_connections 64; }}\n\
                 http {{\n\
                 access_log {dir}/access.log;\n\
                 client_body_temp_path {tmp}/body;\n\
                 fastcgi_temp_path {tmp}/fastcgi;\n\
                 proxy_temp_path {tmp}/proxy;\n\
                 uwsgi_temp_path {tmp}/uwsgi;\n\
                 scgi_temp_path {tmp}/scgi;\n\
                 client_max_body_size 0;\n\
                 server {{\n\
                 listen {http};\n\
                 listen {https} ssl http2;\n\
                 ssl_certificate {dir}/cert.pem;\n\
                 ssl_certificate_key {dir}/key.pem;\n\
                 location ~ ^/auth(/.*)$ {{\n\
                 auth_basic \"git\";\n\
                 auth_basic_user_file {dir}/htpasswd;\n\
                 include {params};\n\
                 fastcgi_param PATH_INFO $1;\n\
                 }}\n\
                 location ~ ^/token(/.*)$ {{\n\
                 if ($http_authorization != \"Bearer {TOKEN}\") {{ return 401; }}\n\
                 include {params};\n\
                 fastcgi_param PATH_INFO $1;\n\
                 }}\n\
                 location / {{\n\
                 include {params};\n\
                 fastcgi_param PATH_INFO $uri;\n\
                 }}\n\
                 }}\n\
                 }}\n",
                dir = d.display(),
                tmp = tmp.display(),
                params = params.display(),
            ),
        )
        .map_err(&err)?;
        let log = d.join("nginx.log");
        let out = File::create(&log).map_err(&err)?;
        let child = Command::new(&nginx)
            .arg("-p")
            .arg(d)
            .arg("-e")
            .arg(d.join("error.log"))
            .arg("-c")
            .arg(&conf)
            .arg("-g")
            .arg("daemon off;")
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(out.try_clone().map_err(&err)?)
            .stderr(out)
            .spawn()
            .map_err(&err)?;
        let mut nginx = KillGroupOnDrop(child);
        let read_log = || {
            let mut text = std::fs::read_to_string(&log).unwrap_or_default();
            text.push_str(&std::fs::read_to_string(d.join("error.log")).unwrap_or_default());
            text
        };
        wait_for_port(&mut nginx.0, "nginx", http, Duration::from_secs(10), read_log)?;
        wait_for_port(&mut nginx.0, "nginx", https, Duration::from_secs(10), read_log)?;
        Ok(Some(Self {
            nginx: Some(nginx),
            _fcgiwrap: fcgi,
            http,
            https,
            ca,
            dir,
        }))
    }

    /// The repositories: `repos()/x.git` is `http://ADDR/x.git`.
    pub fn repos(&self) -> PathBuf {
        self.dir.path().join("repos")
    }

    /// The http:// URL of `path` (`auth/x.git` and `token/x.git` for the
    /// protected ways in).
    pub fn http_url(&self, path: &str) -> String {
        format!("http://{}/{}", self.http, path.trim_start_matches('/'))
    }

    /// The https:// URL of `path`.
    pub fn https_url(&self, path: &str) -> String {
        format!("https://{}/{}", self.https, path.trim_start_matches('/'))
    }

    /// The CA that signed the HTTPS certificate (for 127.0.0.1 and localhost).
    pub fn ca(&self) -> &TestCa {
        &self.ca
    }

    /// nginx's error and access logs so far.
    pub fn log(&self) -> String {
        let d = self.dir.path();
        let mut text = std::fs::read_to_string(d.join("error.log")).unwrap_or_default();
        text.push_str(&std::fs::read_to_string(d.join("access.log")).unwrap_or_default());
        text
    }

    /// The temp dir, for the test's own files.
    pub fn scratch(&self) -> &Path {
        self.dir.path()
    }

    /// Stops nginx now (fcgiwrap stops on drop).
    pub fn stop(&mut self) {
        self.nginx.take();
    }
}
