//! The release binary embeds the site (`target/site`, written by
//! `scripts/build.sh`): rebuild the server whenever a file there changes,
//! also when the site appears after the server was first compiled.
fn main() {
    println!("cargo:rerun-if-changed=../target/site");
    println!("cargo:rerun-if-changed=build.rs");
}
