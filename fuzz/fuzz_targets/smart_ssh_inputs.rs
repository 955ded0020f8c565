#![no_main]
// What a user hands the SSH transport: an OpenSSH private key file (not
// decrypted: no passphrase, so no KDF rounds taken from the input).
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(key) = smart::SshKey::from_openssh(data, None) {
        let _ = key.public_key_line("fuzz");
        let _ = key.fingerprint();
    }
});
