//! The size limit (413 with a message) and the rate limit (429).

use crate::support::{TestResult, curl, files, paste, site};

#[tokio::test(flavor = "multi_thread")]
async fn a_paste_over_the_maximum_is_refused_with_the_sizes() -> TestResult {
    let s = site(|c| c.max_size = 1024).await;
    let big = vec![b'a'; 2048];
    let refused = paste(&s.base, "", &big).await;
    assert_eq!(refused.status, 413);
    let text = refused.text();
    assert!(
        text.contains("(2048 bytes)") && text.contains("maximum is 1.0 KiB"),
        "{text}"
    );
    // Far past paf's body limit too: still a 413.
    let huge = vec![b'a'; 1024 * 1024];
    assert_eq!(paste(&s.base, "", &huge).await.status, 413);
    // The form says it as a page.
    let form = curl(&[
        "-H",
        "Accept: text/html",
        "--data-urlencode",
        &format!("content={}", "b".repeat(1500)),
        &format!("{}/", s.base),
    ])
    .await;
    assert_eq!(form.status, 413);
    assert!(form.text().contains("Paste too large"), "{}", form.text());
    assert!(files(&s.repo(), "main").is_empty(), "nothing stored");
    // At the limit it is accepted.
    assert_eq!(paste(&s.base, "", &big[..1024]).await.status, 201);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn too_many_pastes_from_one_address_get_429() -> TestResult {
    let s = site(|c| c.rate_per_minute = 3).await;
    for i in 0..3 {
        assert_eq!(
            paste(&s.base, "", format!("paste {i}").as_bytes()).await.status,
            201
        );
    }
    let refused = paste(&s.base, "", b"one more").await;
    assert_eq!(refused.status, 429);
    let wait: u64 = refused.header("retry-after").unwrap_or("0").parse()?;
    assert!((1..=21).contains(&wait), "{wait}");
    assert!(refused.text().contains("try again"));
    // Reading is not limited.
    assert_eq!(curl(&[&format!("{}/", s.base)]).await.status, 200);
    assert_eq!(files(&s.repo(), "main").len(), 6);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit() -> TestResult {
    let s = site(|c| {
        c.rate_per_minute = 2;
        c.trusted_proxies = vec!["127.0.0.1".parse().expect("an address")];
    })
    .await;
    let post = |client: &'static str| {
        let base = s.base.clone();
        async move {
            curl(&[
                "-H",
                &format!("X-Forwarded-For: 203.0.113.9, {client}"),
                "--data-binary",
                "x",
                &format!("{base}/"),
            ])
            .await
            .status
        }
    };
    for client in ["192.0.2.1", "192.0.2.1", "192.0.2.2", "192.0.2.2"] {
        assert_eq!(post(client).await, 201, "{client}");
    }
    assert_eq!(post("192.0.2.1").await, 429);
    assert_eq!(post("192.0.2.3").await, 201);
    Ok(())
}
