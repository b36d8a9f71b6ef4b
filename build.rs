use std::collections::hash_map::DefaultHasher;
use std::env;
use std::fs;
use std::hash::{Hash, Hasher};
use std::path::Path;

fn main() {
    napi_build::setup();
    link_release();
}

// Release links are stripped here rather than by `[profile.release] strip`: that setting
// changes this crate's symbol hashes, so scripts/hot-functions.sh could not name the shipped
// build's functions from an unstripped one. SIMPLE_PEER_NATIVE_KEEP_SYMBOLS=1 keeps them.
fn link_release() {
    println!("cargo:rerun-if-env-changed=SIMPLE_PEER_NATIVE_KEEP_SYMBOLS");
    println!("cargo:rerun-if-changed=scripts/hot-functions.txt");
    if env::var("PROFILE").as_deref() != Ok("release") {
        return;
    }
    let target = env::var("TARGET").unwrap_or_default();
    if env::var_os("SIMPLE_PEER_NATIVE_KEEP_SYMBOLS").is_none() {
        if target.contains("-linux-") {
            println!("cargo:rustc-cdylib-link-arg=-Wl,--strip-all");
        } else if target.contains("-apple-") {
            println!("cargo:rustc-cdylib-link-arg=-Wl,-x");
        }
    }
    // rust-lld links this target: it places the functions a data-channel session runs side by
    // side, so fault-around (64 KB mapped per code page touched) maps those, not all 4.4 MB.
    if target == "x86_64-unknown-linux-gnu" {
        let list =
            Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap()).join("scripts/hot-functions.txt");
        let names = fs::read(&list).expect("scripts/hot-functions.txt");
        // A copy named by its content: a changed list changes the link line, so cargo relinks.
        let mut hasher = DefaultHasher::new();
        names.hash(&mut hasher);
        let copy = Path::new(&env::var("OUT_DIR").unwrap())
            .join(format!("hot-functions-{:016x}.txt", hasher.finish()));
        fs::write(&copy, names).unwrap();
        println!(
            "cargo:rustc-cdylib-link-arg=-Wl,--symbol-ordering-file={}",
            copy.display()
        );
        // Names the list lacks after a code change are expected; the list is refreshed by hand.
        println!("cargo:rustc-cdylib-link-arg=-Wl,--no-warn-symbol-ordering");
    }
}
