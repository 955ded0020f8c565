//! What paf's ACME side reads from users and files: a TSIG key
//! (`name:algorithm:base64`), account and certificate keys (PEM), a stored
//! certificate (PEM chain + key) and a certificate name as a store id.
//! None may panic; a parsed TSIG key prints back its name.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paf::acme::dns01::TsigKey;
use paf::acme::{AccountKey, CertKey, Issued};

fuzz_target!(|data: &[u8]| {
    let _ = AccountKey::from_pem(data);
    let _ = CertKey::from_pem(data);
    let _ = paf::certs::certified_key_from_pem(data, data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(key) = text.parse::<TsigKey>() {
        assert!(text.starts_with(key.name()));
    }
    let _ = paf::acme::store::cert_id(text);
    let (chain, key) = text.split_once("\n\n").unwrap_or((text, text));
    let _ = Issued::from_pem(chain.to_string(), key.to_string());
});
