//! Hostile databases and buffers: bounded time, clear errors, no panic.

use conan::{Database, Magic, ParseErrorKind};

#[test]
fn use_cycle_is_bounded() {
    let db = Database::from_text(
        "cycle",
        b"0 name a\n>0 use b\n0 name b\n>0 use a\n0 byte x start\n>0 use a\n",
    )
    .expect("parses");
    let out = Magic::new(db).identify(b"some bytes");
    // The recursion stops at libmagic's depth of 50 and the top-level
    // description is still reported.
    assert!(out.description.starts_with("start"), "{out:?}");
}

#[test]
fn self_indirect_is_bounded() {
    let db = Database::from_text("ind", b"0 string AB ab\n>0 indirect x \\b, inner\n").expect("parses");
    let out = Magic::new(db).identify(b"ABAB");
    assert!(out.description.starts_with("ab"), "{out:?}");
}

#[test]
fn giant_indirect_offsets_do_not_read_out_of_bounds() {
    let db = Database::from_text(
        "giant",
        b"0 byte x any\n>(0.L) byte x \\b, far %d\n>(0.L*0x7fffffff) byte x \\b, farther\n>-0xffffffff byte x \\b, before start\n",
    )
    .expect("parses");
    let out = Magic::new(db).identify(b"\xff\xff\xff\xf0data");
    assert_eq!(out.description, "any");
}

#[test]
fn parse_errors_carry_file_and_line() {
    let e = Database::from_text("m.magic", b"0 string a A\n\n0 bogus 1 B\n").expect_err("bad type");
    match e {
        conan::LoadError::Parse(p) => {
            assert_eq!(p.file, "m.magic");
            assert_eq!(p.line, 3);
            assert_eq!(p.kind, ParseErrorKind::UnknownType);
        }
        other => panic!("unexpected error {other:?}"),
    }
}

#[test]
fn arbitrary_database_bytes_never_panic() {
    // A crude deterministic fuzz over database text and content.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let alphabet =
        b"0123456789>&()-+.,~x=!<^ \tbyteshortlongstringsearch/regexuse name indirect \\b%sd\nlLhHsSbBcC";
    for _ in 0..300 {
        let text: Vec<u8> = (0..(next() % 200))
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        if let Ok(db) = Database::from_text("fuzz", &text) {
            let data: Vec<u8> = (0..(next() % 64)).map(|_| next() as u8).collect();
            let _ = Magic::new(db).identify(&data);
        }
    }
}

#[test]
fn matcher_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Magic>();
}

#[test]
fn huge_sparse_file_reads_only_a_bounded_prefix() {
    let dir = std::env::temp_dir().join(format!("conan-sparse-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("sparse.bin");
    let f = std::fs::File::create(&path).expect("create");
    // 2 GiB of holes: reading it all would take seconds and 2 GiB of memory.
    f.set_len(2 << 30).expect("set_len");
    drop(f);
    let out = Magic::new(Database::builtin()).identify_path(&path);
    let _ = std::fs::remove_dir_all(&dir);
    let out = out.expect("readable");
    assert_eq!(out.mime, "application/octet-stream");
    assert_eq!(out.description, "data");
}

#[test]
fn separator_inside_use_and_indirect_like_libmagic() {
    // file 5.44 with this magic prints "outer in\012- bee" for "AB": once a
    // named group has printed, a nested indirect match starts a new line
    // (what Mach-O universal binaries show).
    let db = Database::from_text(
        "sep",
        b"0\tname\tinner\n>0\tbyte\tx\tin\n\n0\tstring\tAB\touter\n>0\tuse\tinner\n>1\tindirect\tx\t\\b\n\n0\tstring\tB\tbee\n",
    )
    .expect("parses");
    assert_eq!(Magic::new(db).identify(b"AB").description, "outer in\\012- bee");
}

#[test]
fn cdf_chain_loops_are_bounded() {
    // A compound document with 1 MiB sectors whose SAT sends every chain
    // back to the same sector: the directory chain loops until libmagic's
    // limit, which must neither allocate gigabytes nor hang.
    let ss = 1usize << 20;
    let mut f = vec![0u8; 512];
    f[..8].copy_from_slice(&0xE11A_B1A1_E011_CFD0u64.to_le_bytes());
    f[30..32].copy_from_slice(&20u16.to_le_bytes());
    f[32..34].copy_from_slice(&6u16.to_le_bytes());
    f[48..52].copy_from_slice(&0i32.to_le_bytes()); // directory at sector 0
    f[60..64].copy_from_slice(&(-2i32).to_le_bytes()); // no short SAT
    f[68..72].copy_from_slice(&(-2i32).to_le_bytes());
    for k in 0..109 {
        let v: i32 = if k == 0 { 0 } else { -1 };
        f[76 + 4 * k..80 + 4 * k].copy_from_slice(&v.to_le_bytes());
    }
    f.resize(ss + ss, 0); // sector 0 at offset ss: the SAT, all zeros = loops
    let out = Magic::new(Database::builtin()).identify(&f);
    assert_eq!(out.mime, "application/x-ole-storage");
    assert!(
        out.description.starts_with("Composite Document File V2 Document"),
        "{out:?}"
    );
}

/// A compiled database (file 5.44 format) made by hand: `0 string AB ab`
/// then `>0 use x` in the main set, `0 name x` then `>0 string AB named`
/// in the named set; `bad_name` gives the `name` record an unknown type,
/// `bad_use` the `use` record.
fn tiny_mgc(bad_name: bool, bad_use: bool) -> Vec<u8> {
    const RECORD: usize = 376;
    /// cont_level, flag, type, value, description
    type Record<'a> = (u16, u8, u8, &'a [u8], &'a [u8]);
    let records: [Record<'_>; 4] = [
        (0, 0x20, 5, b"AB", b"ab"),
        (1, 0, if bad_use { 0xee } else { 46 }, b"x", b""),
        (0, 0, if bad_name { 0xee } else { 45 }, b"x", b""),
        (1, 0, 5, b"AB", b"named"),
    ];
    let mut v = vec![0u8; RECORD * (records.len() + 1)];
    for (i, w) in [0xF11E_041Cu32, 18, 2, 2].into_iter().enumerate() {
        v[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
    }
    for (i, (level, flag, typ, value, desc)) in records.into_iter().enumerate() {
        let r = &mut v[RECORD * (i + 1)..RECORD * (i + 2)];
        r[..2].copy_from_slice(&level.to_le_bytes());
        r[2] = flag;
        r[4] = b'=';
        r[5] = value.len() as u8;
        r[6] = typ;
        r[32..32 + value.len()].copy_from_slice(value);
        r[160..160 + desc.len()].copy_from_slice(desc);
    }
    v
}

#[test]
fn compiled_database_files_are_read_when_needed() {
    let dir = std::env::temp_dir().join(format!("conan-mgc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let good = dir.join("good.mgc");
    let bad = dir.join("bad.mgc");
    let changed = dir.join("changed.mgc");
    std::fs::write(&good, tiny_mgc(false, false)).expect("write");
    std::fs::write(&bad, tiny_mgc(true, false)).expect("write");
    std::fs::write(&changed, tiny_mgc(false, false)).expect("write");
    let from_file = Database::load(&good).map(Magic::new);
    let from_bad_file = Database::load(&bad).map(Magic::new);
    let from_changed_file = Database::load(&changed).map(Magic::new);
    // Rewritten in place after loading: the `use` is no longer valid.
    std::fs::write(&changed, tiny_mgc(false, true)).expect("write");
    let after_change = from_changed_file.map(|m| m.identify(b"AB").description);
    let _ = std::fs::remove_dir_all(&dir);

    // Read from memory or from a file (continuations and named set read
    // when first needed), the same.
    let in_memory = Magic::new(Database::from_compiled(&tiny_mgc(false, false)).expect("valid"));
    assert_eq!(in_memory.identify(b"AB").description, "ab named");
    assert_eq!(from_file.expect("loads").identify(b"AB").description, "ab named");

    // A bad named set is an error up front from memory; from a file it is
    // found when first used, and the `use` then fails as a missing name.
    assert!(matches!(
        Database::from_compiled(&tiny_mgc(true, false)),
        Err(conan::MgcError::BadType { index: 3, typ: 0xee })
    ));
    assert_eq!(
        from_bad_file
            .expect("main set is valid")
            .identify(b"AB")
            .description,
        "ab"
    );

    // Continuations are checked when read: a file changed since it was
    // loaded gives the groups it spoils no continuations.
    assert_eq!(after_change.expect("loads"), "ab");
    assert!(matches!(
        Database::from_compiled(&tiny_mgc(false, true)),
        Err(conan::MgcError::BadType { index: 2, typ: 0xee })
    ));
}

#[test]
fn arbitrary_compiled_records_never_panic() {
    // A crude deterministic fuzz over compiled records (valid header and
    // types, everything else random), loaded from memory and from a file.
    const RECORD: usize = 376;
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let dir = std::env::temp_dir().join(format!("conan-mgc-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("fuzz.mgc");
    for _ in 0..200 {
        let n = 1 + (next() % 24) as usize;
        let n0 = 1 + (next() % n as u64) as u32;
        let mut v = vec![0u8; RECORD * (n + 1)];
        for (i, w) in [0xF11E_041Cu32, 18, n0, n as u32 - n0].into_iter().enumerate() {
            v[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
        }
        for i in 1..=n {
            let r = &mut v[RECORD * i..RECORD * (i + 1)];
            for b in r.iter_mut() {
                *b = if next() % 3 == 0 { next() as u8 } else { 0 };
            }
            // Each set starts with a top-level record; types are valid.
            let level = if i == 1 || i == n0 as usize + 1 {
                0
            } else {
                (next() % 3) as u16
            };
            r[..2].copy_from_slice(&level.to_le_bytes());
            r[6] = 1 + (next() % 59) as u8;
            r[7] = if next() % 2 == 0 {
                0
            } else {
                1 + (next() % 59) as u8
            };
        }
        let data: Vec<u8> = (0..(next() % 96)).map(|_| next() as u8).collect();
        if let Ok(db) = Database::from_compiled(&v) {
            let _ = Magic::new(db).identify(&data);
        }
        std::fs::write(&path, &v).expect("write");
        if let Ok(db) = Database::load(&path) {
            let _ = Magic::new(db).identify(&data);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
