//! The real OS keychain (under `scripts/test`: a throwaway gnome-keyring in a private
//! D-Bus session).

// Helpers outside #[test] functions fail the test loudly, as tests should.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use purse_keys::{Keychain, Secret};

#[test]
#[ignore = "needs a Secret Service: run through scripts/test"]
fn secrets_round_trip_and_stay_within_their_profile() {
    let profile = format!("test-{}", std::process::id());
    let keychain = Keychain::new(&profile);
    let other = Keychain::new(format!("{profile}-other"));
    keychain.delete("probe").unwrap();
    assert_eq!(keychain.get("probe").unwrap(), None);

    keychain.set("probe", &Secret::new("first".into())).unwrap();
    keychain.set("probe", &Secret::new("second".into())).unwrap();
    assert_eq!(keychain.get("probe").unwrap().unwrap().expose(), "second");
    assert_eq!(other.get("probe").unwrap(), None, "profiles are apart");

    keychain.delete("probe").unwrap();
    keychain.delete("probe").unwrap();
    assert_eq!(keychain.get("probe").unwrap(), None);
}
