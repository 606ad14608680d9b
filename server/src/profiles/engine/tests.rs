//! Classification case tables over the factory profiles, plus the engine's own guarantees:
//! batched matching agrees with each rule's reference `matches`, parallel equals sequential.

use std::net::IpAddr;

use time::OffsetDateTime;

use super::*;
use crate::discovery::{parse_nmap_xml, Limits, MacAddress, OpenPort, OsMatch, Protocol};
use crate::inventory::{DefenderDevice, DefenderOs, EndpointKey};
use crate::profiles::parse_profiles;

/// A compact description of an endpoint for case tables.
#[derive(Default, Clone, Copy)]
struct Spec {
    mac: Option<&'static str>,
    hostname: Option<&'static str>,
    ports: &'static [u16],
    os_match: Option<&'static str>,
    dhcp_class: Option<&'static str>,
    defender: Option<(&'static str, Option<&'static str>)>,
    /// Advanced hunting's `DeviceInfo`: (device type, model).
    device: Option<(&'static str, &'static str)>,
}

fn endpoint(spec: Spec) -> Endpoint {
    let key = match spec.mac {
        Some(mac) => EndpointKey::Mac(MacAddress::parse(mac).unwrap()),
        None => EndpointKey::DefenderMachine("1e5bc9d7e413ddd7902c2932e418702b84d0cc07".into()),
    };
    let mut e = Endpoint::new(key, OffsetDateTime::UNIX_EPOCH);
    e.hostnames.extend(spec.hostname.map(str::to_owned));
    e.open_ports = spec
        .ports
        .iter()
        .map(|&port| OpenPort {
            port,
            protocol: Protocol::Tcp,
            service: None,
            product: None,
        })
        .collect();
    e.os_matches.extend(spec.os_match.map(|name| OsMatch {
        name: name.into(),
        accuracy: 95,
    }));
    e.dhcp_vendor_class = spec.dhcp_class.map(str::to_owned);
    e.defender_os = spec
        .defender
        .and_then(|(p, v)| DefenderOs::from_defender(Some(p), v));
    if let Some((device_type, model)) = spec.device {
        e.defender_device =
            DefenderDevice::from_stored(Some(device_type), Some(model), None, None, None);
    }
    e
}

fn engine() -> ProfileEngine {
    ProfileEngine::factory().unwrap()
}

fn best(engine: &ProfileEngine, spec: Spec) -> Option<(String, MatchLevel)> {
    let found = engine.classify(&endpoint(spec)).best?;
    Some((engine.profile_name(&found.profile).to_owned(), found.level))
}

fn cases() -> Vec<(Spec, Option<(&'static str, MatchLevel)>)> {
    use MatchLevel::*;
    vec![
        (
            Spec {
                mac: Some("3C:22:FB:00:11:22"),
                hostname: Some("DESKTOP-7H3K2LQ"),
                ports: &[135, 445],
                dhcp_class: Some("MSFT 5.0"),
                ..Spec::default()
            },
            Some(("Windows Workstation", VeryHigh)),
        ),
        (
            Spec {
                hostname: Some("DC01.corp.example"),
                ports: &[88, 389, 445],
                ..Spec::default()
            },
            Some(("Windows Server", High)),
        ),
        (
            Spec {
                os_match: Some("Microsoft Windows Server 2019"),
                ports: &[3389, 445, 5985],
                ..Spec::default()
            },
            Some(("Windows Server", VeryHigh)),
        ),
        (
            Spec {
                os_match: Some("Linux 5.0 - 5.14"),
                ports: &[22, 443],
                hostname: Some("web-01"),
                ..Spec::default()
            },
            Some(("Linux Server", VeryHigh)),
        ),
        (
            Spec {
                mac: Some("3C:D9:2B:12:34:56"),
                ports: &[9100, 80],
                ..Spec::default()
            },
            Some(("Network Printer", High)),
        ),
        (
            Spec {
                mac: Some("00:04:F2:12:34:56"),
                dhcp_class: Some("Polycom-VVX411"),
                ports: &[5060],
                ..Spec::default()
            },
            Some(("IP Phone", VeryHigh)),
        ),
        (
            Spec {
                mac: Some("00:00:0C:12:34:56"),
                hostname: Some("SEP00000C123456"),
                ..Spec::default()
            },
            Some(("IP Phone", Medium)),
        ),
        (
            Spec {
                mac: Some("00:00:0C:12:34:56"),
                hostname: Some("sw-core-01"),
                ports: &[22, 23, 161],
                ..Spec::default()
            },
            Some(("Network Switch", High)),
        ),
        (
            Spec {
                mac: Some("00:40:8C:AB:CD:EF"),
                ports: &[80, 554],
                ..Spec::default()
            },
            Some(("IP Camera", High)),
        ),
        (
            Spec {
                mac: Some("B8:27:EB:00:00:01"),
                hostname: Some("raspberrypi"),
                ..Spec::default()
            },
            Some(("Raspberry Pi", VeryHigh)),
        ),
        (
            Spec {
                mac: Some("00:50:56:00:00:01"),
                ..Spec::default()
            },
            Some(("Virtual Machine", Low)),
        ),
        (
            Spec {
                dhcp_class: Some("android-dhcp-14"),
                ..Spec::default()
            },
            Some(("Android Device", High)),
        ),
        (
            Spec {
                hostname: Some("Annas-iPhone"),
                ports: &[62078],
                ..Spec::default()
            },
            Some(("Apple Mobile Device", VeryHigh)),
        ),
        (
            Spec {
                ports: &[502],
                ..Spec::default()
            },
            Some(("Industrial Controller", Medium)),
        ),
        (
            Spec {
                hostname: Some("nothing-to-see"),
                ports: &[12345],
                ..Spec::default()
            },
            None,
        ),
        (Spec::default(), None),
    ]
}

#[test]
fn factory_profiles_classify_typical_devices() {
    let engine = engine();
    for (spec, want) in cases() {
        let got = best(&engine, spec);
        let want = want.map(|(name, level)| (name.to_owned(), level));
        assert_eq!(got, want, "hostname {:?} mac {:?}", spec.hostname, spec.mac);
    }
}

/// What `DeviceInfo` says counts beside the network's evidence: a printer Defender's device
/// discovery typed, a guest whose model is the hypervisor's (the NIC vendor alone is Low).
#[test]
fn defender_device_info_is_evidence_for_profile_rules() {
    use MatchLevel::*;
    let engine = engine();
    let hyper_v_nic = Spec {
        mac: Some("00:15:5D:01:02:03"),
        ..Spec::default()
    };
    assert_eq!(
        best(&engine, hyper_v_nic),
        Some(("Virtual Machine".to_owned(), Low))
    );
    let guest = Spec {
        device: Some(("Workstation", "Virtual Machine")),
        ..hyper_v_nic
    };
    let found = engine.classify(&endpoint(guest)).best.unwrap();
    assert_eq!(engine.profile_name(&found.profile), "Virtual Machine");
    assert_eq!(found.score, 80);
    let why: Vec<String> = engine
        .matched_rules(&found)
        .map(ToString::to_string)
        .collect();
    assert!(
        why.iter().any(|w| w.starts_with("Defender model matches")),
        "{why:?}"
    );
    let printer = Spec {
        device: Some(("Printer", "")),
        ..Spec::default()
    };
    assert_eq!(
        best(&engine, printer),
        Some(("Network Printer".to_owned(), High))
    );
    let named = Spec {
        hostname: Some("mfp-floor2-04"),
        ..printer
    };
    assert_eq!(
        best(&engine, named),
        Some(("Network Printer".to_owned(), VeryHigh))
    );
    // A model name alone says nothing about a profile that needs the hypervisor's NIC.
    let bare = Spec {
        device: Some(("Workstation", "Virtual Machine")),
        ..Spec::default()
    };
    assert_eq!(best(&engine, bare), None);
}

#[test]
fn runners_up_are_kept_best_first_with_their_rules() {
    let engine = engine();
    // Apple vendor alone fits both macOS and Apple Mobile Device; the hostname decides.
    let spec = Spec {
        mac: Some("3C:22:FB:00:11:22"),
        hostname: Some("Annas-MacBook-Pro"),
        ..Spec::default()
    };
    let found = engine.classify(&endpoint(spec));
    let best = found.best.unwrap();
    assert_eq!(engine.profile_name(&best.profile), "macOS");
    assert_eq!(best.score, 65);
    let why: Vec<String> = engine
        .matched_rules(&best)
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        why,
        [
            "MAC vendor matches /^Apple/",
            "hostname matches /(MacBook|iMac|Mac-?mini|Mac-?Pro|Mac-?Studio)/"
        ]
    );
    let others: Vec<_> = found
        .considered
        .iter()
        .map(|m| (engine.profile_name(&m.profile), m.score))
        .collect();
    assert_eq!(others, [("Apple Mobile Device", 20)]);
}

#[test]
fn defender_os_gives_the_most_specific_dynamic_profile() {
    let engine = engine();
    let spec = Spec {
        hostname: Some("DESKTOP-7H3K2LQ"),
        dhcp_class: Some("MSFT 5.0"),
        defender: Some(("Windows11", Some("24H2"))),
        ..Spec::default()
    };
    let found = engine.classify(&endpoint(spec));
    let best = found.best.unwrap();
    assert_eq!(best.profile, ProfileRef::Dynamic("⇋ Windows11 24H2".into()));
    assert_eq!((best.score, best.level), (100, MatchLevel::VeryHigh));
    assert_eq!(engine.matched_rules(&best).count(), 0);
    let others: Vec<_> = found
        .considered
        .iter()
        .map(|m| engine.profile_name(&m.profile))
        .collect();
    assert_eq!(others, ["⇋ Windows11", "Windows Workstation"]);

    let spec = Spec {
        defender: Some(("macOS", None)),
        ..Spec::default()
    };
    let found = engine.classify(&endpoint(spec));
    assert_eq!(
        found.best.unwrap().profile,
        ProfileRef::Dynamic("⇋ macOS".into())
    );
    // The macOS rule on defender_os still shows as the runner-up.
    assert_eq!(engine.profile_name(&found.considered[0].profile), "macOS");
}

#[test]
fn required_rules_and_disabled_profiles() {
    let toml = r#"
[[profile]]
name = "Needs vendor"
rules = [
  { attribute = "open_port", ports = [22], weight = 50 },
  { attribute = "mac_vendor", pattern = "VMware", weight = 10, required = true },
]
[[profile]]
name = "Off"
enabled = false
rules = [{ attribute = "open_port", ports = [22], weight = 90 }]
[[profile]]
name = "Fallback"
rules = [{ attribute = "open_port", ports = [22], weight = 5 }]
"#;
    let engine = ProfileEngine::new(parse_profiles(toml).unwrap()).unwrap();
    let ssh = Spec {
        ports: &[22],
        ..Spec::default()
    };
    assert_eq!(
        best(&engine, ssh),
        Some(("Fallback".into(), MatchLevel::Low))
    );
    let vm = Spec {
        mac: Some("00:50:56:00:00:01"),
        ..ssh
    };
    assert_eq!(
        best(&engine, vm),
        Some(("Needs vendor".into(), MatchLevel::High))
    );
    assert_eq!(engine.find("needs VENDOR"), Some(ProfileId(0)));
    assert_eq!(engine.find("missing"), None);
}

#[test]
fn ties_go_to_more_rules_then_the_earlier_profile() {
    let toml = r#"
[[profile]]
name = "A"
rules = [{ attribute = "open_port", ports = [80], weight = 20 }]
[[profile]]
name = "B"
rules = [{ attribute = "open_port", ports = [80], weight = 20 }]
[[profile]]
name = "C"
rules = [
  { attribute = "open_port", ports = [80], weight = 10 },
  { attribute = "open_port", ports = [80, 443], weight = 10 },
]
"#;
    let engine = ProfileEngine::new(parse_profiles(toml).unwrap()).unwrap();
    let found = engine.classify(&endpoint(Spec {
        ports: &[80],
        ..Spec::default()
    }));
    let order: Vec<_> = std::iter::once(found.best.as_ref().unwrap())
        .chain(&found.considered)
        .map(|m| engine.profile_name(&m.profile))
        .collect();
    assert_eq!(order, ["C", "A", "B"]);
}

#[test]
fn engine_refuses_duplicate_names_built_in_code() {
    let toml = r#"
[[profile]]
name = "A"
rules = [{ attribute = "open_port", ports = [1], weight = 1 }]
"#;
    let mut profiles = parse_profiles(toml).unwrap();
    profiles.push(profiles[0].clone());
    let err = ProfileEngine::new(profiles).unwrap_err().to_string();
    assert_eq!(
        err,
        "profile #2 'A': the name is already used by another profile"
    );
}

#[test]
fn batched_matching_agrees_with_each_rules_reference() {
    let engine = engine();
    let mut scratch = engine.scratch();
    for (spec, _) in cases() {
        let subject = endpoint(spec);
        // Classify something else first, so stale scratch state would show.
        let printer = Spec {
            ports: &[9100],
            ..Spec::default()
        };
        engine.classify_with(&endpoint(printer), &mut scratch);
        let found = engine.classify_with(&subject, &mut scratch);
        let reported: Vec<_> = found
            .best
            .iter()
            .chain(&found.considered)
            .filter_map(|m| match m.profile {
                ProfileRef::Rules(id) => Some((id, m.matched)),
                ProfileRef::Dynamic(_) => None,
            })
            .collect();
        for (index, profile) in engine.profiles().iter().enumerate() {
            let id = ProfileId(index as u16);
            let reference: Vec<usize> = profile
                .rules
                .iter()
                .enumerate()
                .filter(|(_, r)| r.matches(&subject))
                .map(|(i, _)| i)
                .collect();
            let required_missing = profile
                .rules
                .iter()
                .enumerate()
                .any(|(i, r)| r.required && !reference.contains(&i));
            if let Some((_, mask)) = reported.iter().find(|(found, _)| *found == id) {
                assert_eq!(
                    mask.iter().collect::<Vec<_>>(),
                    reference,
                    "{}",
                    profile.name
                );
            } else if !required_missing && reported.len() <= ProfileEngine::MAX_CONSIDERED {
                // Not reported and the list was not cut: no rule of it may match.
                assert!(
                    reference.is_empty(),
                    "{} matched {reference:?} but was not reported",
                    profile.name
                );
            }
        }
    }
}

#[test]
fn parallel_remodel_equals_sequential() {
    let engine = engine();
    let endpoints: Vec<Endpoint> = cases()
        .into_iter()
        .cycle()
        .take(101)
        .map(|(s, _)| endpoint(s))
        .collect();
    let sequential = engine.remodel(&endpoints);
    assert_eq!(sequential.len(), 101);
    for threads in [1, 2, 3, 200] {
        let parallel = engine.remodel_parallel(&endpoints, NonZeroUsize::new(threads).unwrap());
        assert_eq!(parallel, sequential, "{threads} threads");
    }
    assert!(engine
        .remodel_parallel(&[], NonZeroUsize::new(2).unwrap())
        .is_empty());
}

#[test]
fn real_nmap_scan_of_the_lab_classifies_each_host() {
    let path = format!(
        "{}/tests/fixtures/nmap/lab-names.xml",
        env!("CARGO_MANIFEST_DIR")
    );
    let scan = parse_nmap_xml(&std::fs::read(path).unwrap(), &Limits::NMAP_XML).unwrap();
    let engine = engine();
    let got: Vec<(IpAddr, String, MatchLevel)> = scan
        .observations
        .iter()
        .map(|o| {
            let endpoint = Endpoint::from_observation(o, OffsetDateTime::UNIX_EPOCH).unwrap();
            let best = engine.classify(&endpoint).best.unwrap();
            (
                o.ips[0],
                engine.profile_name(&best.profile).to_owned(),
                best.level,
            )
        })
        .collect();
    let want = [
        // A Hyper-V MAC (00:15:5D) says "virtual machine" (40), but the DESKTOP-XXXXXXX name
        // and the Windows ports say more (60).
        ("10.99.0.11", "Windows Workstation", MatchLevel::High),
        ("10.99.0.12", "IP Phone", MatchLevel::VeryHigh),
        ("10.99.0.13", "IP Camera", MatchLevel::VeryHigh),
    ];
    for (got, want) in got.iter().zip(want) {
        assert_eq!((got.0.to_string().as_str(), got.1.as_str(), got.2), want);
    }
}
