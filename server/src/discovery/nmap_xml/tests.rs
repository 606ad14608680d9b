//! Tests of the nmap importer against real nmap output and hostile files
//! (`server/tests/fixtures/nmap/README.md` says how each was made).

use super::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/nmap/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse(name: &str) -> Result<NmapScan, NmapXmlError> {
    parse_nmap_xml(&fixture(name), &Limits::NMAP_XML)
}

fn parse_str(xml: &str) -> Result<NmapScan, NmapXmlError> {
    parse_nmap_xml(xml.as_bytes(), &Limits::NMAP_XML)
}

fn error_text(name: &str) -> String {
    parse(name).expect_err(name).to_string()
}

#[test]
fn loopback_scans_have_one_host_without_a_mac() {
    for name in ["loopback-sT.xml", "loopback-sV-O.xml"] {
        let scan = parse(name).unwrap();
        assert_eq!(scan.observations.len(), 1, "{name}");
        let host = &scan.observations[0];
        assert_eq!(host.mac, None);
        assert_eq!(host.ips, ["127.0.0.1".parse::<IpAddr>().unwrap()]);
        assert_eq!(host.hostnames, ["localhost"]);
        assert_eq!(host.source, SourceKind::Nmap);
        assert!(scan.args.as_deref().unwrap().starts_with("nmap -oX"));
        assert_eq!(scan.nmap_version.as_deref(), Some("7.93"));
        assert!(scan.started_at.is_some());
    }
}

#[test]
fn lab_scan_reads_macs_vendors_and_open_ports_once_per_host() {
    let scan = parse("lab-sT.xml").unwrap();
    // Four hosts: three lab hosts and the scanner's own bridge address; the <hosthint>s
    // before each host must not add more.
    assert_eq!(scan.observations.len(), 4);
    let summary: Vec<_> = scan
        .observations
        .iter()
        .map(|o| {
            let ports: Vec<u16> = o.open_ports.iter().map(|p| p.port).collect();
            (
                o.ips[0].to_string(),
                o.mac.map(|m| m.to_string()),
                o.source_vendor.clone(),
                ports,
            )
        })
        .collect();
    let want = [
        (
            "10.99.0.11",
            Some("00:15:5D:A1:B2:C3"),
            Some("Microsoft"),
            vec![135, 445, 3389],
        ),
        (
            "10.99.0.12",
            Some("00:04:F2:12:34:56"),
            Some("Polycom"),
            vec![80, 5060],
        ),
        (
            "10.99.0.13",
            Some("00:40:8C:AB:CD:EF"),
            Some("Axis Communications AB"),
            vec![80, 554],
        ),
        ("10.99.0.1", None, None, vec![]),
    ];
    for (got, want) in summary.iter().zip(want) {
        assert_eq!(got.0, want.0);
        assert_eq!(got.1.as_deref(), want.1);
        assert_eq!(got.2.as_deref(), want.2);
        assert_eq!(got.3, want.3, "{}", want.0);
    }
    let first = &scan.observations[0];
    assert_eq!(first.open_ports[0].service.as_deref(), Some("msrpc"));
    assert_eq!(first.open_ports[0].protocol, Protocol::Tcp);
    assert!(first.observed_at.is_some());
}

#[test]
fn service_and_os_detection_are_read() {
    let scan = parse("lab-sV-O.xml").unwrap();
    assert_eq!(scan.observations.len(), 3);
    let camera = &scan.observations[2];
    assert_eq!(camera.mac.unwrap().to_string(), "00:40:8C:AB:CD:EF");
    let http = camera.open_ports.iter().find(|p| p.port == 80).unwrap();
    assert_eq!(http.service.as_deref(), Some("http"));
    assert!(
        http.product
            .as_deref()
            .unwrap()
            .starts_with("SimpleHTTPServer"),
        "{http:?}"
    );
    // Closed ports are not kept.
    assert!(camera
        .open_ports
        .iter()
        .all(|p| [80, 554].contains(&p.port)));
    assert!(!camera.os_matches.is_empty());
    assert!(camera
        .os_matches
        .iter()
        .all(|m| m.accuracy <= 100 && !m.name.is_empty()));
    assert!(camera.os_matches.iter().any(|m| m.name.contains("Linux")));
}

#[test]
fn reverse_names_and_ipv6_are_read() {
    let scan = parse("lab-names.xml").unwrap();
    let names: Vec<_> = scan
        .observations
        .iter()
        .map(|o| o.hostnames.join(","))
        .collect();
    assert_eq!(
        names,
        [
            "desktop-7h3k2lq.lab.test",
            "sep0004f2123456.lab.test",
            "axis-cam-lobby.lab.test"
        ]
    );
    let scan = parse("lab-ipv6.xml").unwrap();
    let host = &scan.observations[0];
    assert_eq!(host.ips, ["fd99::13".parse::<IpAddr>().unwrap()]);
    assert_eq!(host.mac.unwrap().to_string(), "00:40:8C:AB:CD:EF");
}

#[test]
fn hostile_fixtures_are_refused_with_clear_errors() {
    let cases = [
        ("hostile-billion-laughs.xml", "internal DTD subset"),
        ("hostile-billion-laughs.xml", "line 2, column 1"),
        ("hostile-external-dtd.xml", "external DTD is refused"),
        ("hostile-truncated.xml", "truncated"),
        (
            "hostile-utf16le-no-bom.xml",
            "UTF-16 (little-endian, without a byte-order mark)",
        ),
        (
            "hostile-utf16-bom.xml",
            "UTF-16 (little-endian, with a byte-order mark)",
        ),
        ("hostile-latin1.xml", "not valid UTF-8 at line"),
        ("hostile-latin1.xml", "Latin-1"),
        (
            "hostile-bad-mac.xml",
            "host #3: address 'zz:40:8C:AB:CD:EF' is not a MAC address",
        ),
        ("hostile-bad-mac.xml", "line 56"),
    ];
    for (name, want) in cases {
        let err = error_text(name);
        assert!(err.contains(want), "{name}: {err:?} lacks {want:?}");
    }
}

#[test]
fn entity_and_declaration_tricks_are_refused() {
    let cases = [
        (
            "<nmaprun><host><address addr=\"&xxe;\" addrtype=\"ipv4\"/></host></nmaprun>",
            "attribute 'addr'",
        ),
        ("<nmaprun>&xxe;</nmaprun>", "entity '&xxe;' is not defined"),
        ("<nmaprun><!ENTITY x \"y\"></nmaprun>", "not well-formed"),
        (
            "<!DOCTYPE nmaprun [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><nmaprun/>",
            "internal DTD",
        ),
        (
            "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><nmaprun/>",
            "encoding 'ISO-8859-1'",
        ),
        (
            "<!DOCTYPE nmaprun PUBLIC \"-//x//EN\" \"x.dtd\"><nmaprun/>",
            "external DTD",
        ),
        ("not xml at all", "not XML"),
        ("{\"sensor\": \"x\"}", "not XML"),
        ("<html><body/></html>", "root element is <html>"),
        ("<nmaprun><host></nmaprun>", "not well-formed"),
        ("<nmaprun><host>", "truncated"),
        ("<!-- only a comment -->", "root element is <(none)>"),
    ];
    for (xml, want) in cases {
        let err = parse_str(xml).expect_err(xml).to_string();
        assert!(err.contains(want), "{xml}: {err:?} lacks {want:?}");
    }
}

#[test]
fn bad_host_content_names_the_host() {
    let host =
        |inner: &str| format!("<nmaprun>\n<host><status state=\"up\"/>{inner}</host>\n</nmaprun>");
    let ip = "<address addr=\"10.0.0.1\" addrtype=\"ipv4\"/>";
    let cases = [
        (
            host("<address addr=\"10.0.0.300\" addrtype=\"ipv4\"/>"),
            "is not an ipv4 address",
        ),
        (
            host("<address addr=\"10.0.0.1\" addrtype=\"ipv6\"/>"),
            "is not an ipv6 address",
        ),
        (
            host("<address addr=\"x\" addrtype=\"ipx\"/>"),
            "address type 'ipx'",
        ),
        (
            host("<address addr=\"FF:FF:FF:FF:FF:FF\" addrtype=\"mac\"/>"),
            "broadcast",
        ),
        (host(""), "no IP or MAC address"),
        (
            host(&format!(
                "{ip}<ports><port protocol=\"tcp\" portid=\"70000\"/></ports>"
            )),
            "port '70000'",
        ),
        (
            host(&format!(
                "{ip}<ports><port protocol=\"xyz\" portid=\"1\"/></ports>"
            )),
            "protocol 'xyz'",
        ),
        (
            host(&format!(
                "{ip}<os><osmatch name=\"Linux\" accuracy=\"101\"/></os>"
            )),
            "accuracy '101'",
        ),
        (
            host(&format!(
                "{ip}<hostnames><hostname name=\"a&#7;b\"/></hostnames>"
            )),
            "control characters",
        ),
    ];
    for (xml, want) in cases {
        let err = parse_str(&xml).expect_err(&xml).to_string();
        assert!(err.starts_with("host #1: "), "{err}");
        assert!(err.contains(want), "{xml}: {err:?} lacks {want:?}");
        assert!(err.contains("(line 2, column "), "{err}");
    }
}

#[test]
fn down_hosts_are_counted_not_kept() {
    let xml =
        "<nmaprun><host><status state=\"down\"/><address addr=\"10.0.0.1\" addrtype=\"ipv4\"/>\
               </host><host><status state=\"up\"/><address addr=\"10.0.0.2\" addrtype=\"ipv4\"/>\
               </host></nmaprun>";
    let scan = parse_str(xml).unwrap();
    assert_eq!(scan.hosts_down, 1);
    assert_eq!(scan.observations.len(), 1);
}

#[test]
fn limits_are_enforced() {
    let bytes = fixture("lab-sT.xml");
    let limited = |limits: Limits| parse_nmap_xml(&bytes, &limits).unwrap_err().to_string();
    let err = limited(Limits {
        max_records: 2,
        ..Limits::NMAP_XML
    });
    assert!(err.contains("more than 2 hosts"), "{err}");
    let err = limited(Limits {
        max_ports: 1,
        ..Limits::NMAP_XML
    });
    assert!(
        err.contains("host #1: more than 1 open ports (line 36"),
        "{err}"
    );
    let err = limited(Limits {
        max_bytes: 100,
        ..Limits::NMAP_XML
    });
    assert!(err.contains("over the limit of 100 bytes"), "{err}");
}
