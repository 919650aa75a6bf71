//! Plaintext protocols that are not mining, told by their own framing on a direction's first
//! bytes: industrial polling (Modbus/TCP, DNP3, IEC 60870-5-104) and MQTT.
//!
//! Their traffic has the shape the behaviour detector looks for (long-lived, small messages of
//! one size, each answered, the server speaking unasked: unsolicited responses, spontaneous
//! data, publishes), and a SCADA poller on DNP3 raised a behaviour alarm on real traffic. Their
//! framing is strict and cheap to check, so a direction that opens with it is taken for what it
//! says and the flow is not judged by behaviour. Framings, from the protocols' specifications:
//! - Modbus/TCP (Modbus Messaging on TCP/IP Implementation Guide V1.0b): the MBAP header,
//!   transaction id, protocol id 0, a length of 2 to 254 counting the unit id and the PDU,
//!   then a function code (1–127, or an exception: the code with the high bit set);
//! - DNP3 (IEEE 1815, data link layer): start bytes `05 64`, a length of at least 5 (control,
//!   destination, source), a 10-byte header;
//! - IEC 60870-5-104: start byte `68`, an APDU length of 4 to 253, a control field of one of
//!   the three formats (I: bit 0 clear; S: `01 00`; U: one of the six function bits);
//! - MQTT 3.1/3.1.1/5 (OASIS): a CONNECT packet (`10`, remaining length, protocol name
//!   `MQTT` or `MQIsdp`), or the server's CONNACK (`20 02` or MQTT 5's longer one).

/// The protocol a direction's first bytes frame, if it is one of these.
pub fn framing(b: &[u8]) -> Option<&'static str> {
    if modbus_tcp(b) {
        Some("modbus-tcp")
    } else if dnp3(b) {
        Some("dnp3")
    } else if iec104(b) {
        Some("iec-104")
    } else if mqtt(b) {
        Some("mqtt")
    } else {
        None
    }
}

fn modbus_tcp(b: &[u8]) -> bool {
    let [_, _, 0, 0, hi, lo, _unit, fc, ..] = *b else {
        return false;
    };
    let len = usize::from(u16::from_be_bytes([hi, lo]));
    (2..=254).contains(&len) && b.len() >= 6 + len && matches!(fc & 0x7f, 1..=127)
}

fn dnp3(b: &[u8]) -> bool {
    matches!(*b, [0x05, 0x64, len, ..] if len >= 5) && b.len() >= 10
}

fn iec104(b: &[u8]) -> bool {
    let [0x68, len, c0, c1, ..] = *b else {
        return false;
    };
    if !(4..=253).contains(&len) || b.len() < 2 + usize::from(len) {
        return false;
    }
    match c0 & 0x03 {
        // S-format: supervisory, 01 00 then the receive sequence number.
        0x01 => c0 == 0x01 && c1 == 0 && len == 4,
        // U-format: exactly one of STARTDT/STOPDT/TESTFR act or con.
        0x03 => len == 4 && matches!(c0, 0x07 | 0x0b | 0x13 | 0x23 | 0x43 | 0x83),
        // I-format: carries an ASDU.
        _ => len > 4,
    }
}

fn mqtt(b: &[u8]) -> bool {
    match b.first() {
        Some(0x10) => {
            // Remaining length: one to four bytes, 7 bits each.
            let mut i = 1;
            while i < 5 && b.get(i).is_some_and(|c| c & 0x80 != 0) {
                i += 1;
            }
            let name = b.get(i + 1..);
            name.is_some_and(|n| n.starts_with(b"\x00\x04MQTT") || n.starts_with(b"\x00\x06MQIsdp"))
        }
        // CONNACK: flags 0 or 1, a return code up to 5 (3.1.1); MQTT 5 adds properties.
        Some(0x20) => matches!(*b, [0x20, 0x02, 0 | 1, 0..=5] | [0x20, 3..=127, 0 | 1, ..]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_framing_is_told_and_mining_and_tls_are_not() {
        // Modbus read holding registers, request and answer.
        assert_eq!(
            framing(&[0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 10]),
            Some("modbus-tcp")
        );
        assert_eq!(
            framing(&[0, 1, 0, 0, 0, 5, 1, 3, 2, 0, 7]),
            Some("modbus-tcp")
        );
        // DNP3 link header.
        assert_eq!(
            framing(&[5, 0x64, 5, 0xc0, 1, 0, 0, 4, 0xe9, 0x21]),
            Some("dnp3")
        );
        // IEC 104 TESTFR act, S-frame, and an I-frame.
        assert_eq!(framing(&[0x68, 4, 0x43, 0, 0, 0]), Some("iec-104"));
        assert_eq!(framing(&[0x68, 4, 0x01, 0, 2, 0]), Some("iec-104"));
        assert_eq!(framing(&[0x68, 6, 0, 0, 0, 0, 1, 2]), Some("iec-104"));
        // MQTT CONNECT and CONNACK.
        assert_eq!(
            framing(b"\x10\x10\x00\x04MQTT\x04\x02\x00\x3c\x00\x04abcd"),
            Some("mqtt")
        );
        assert_eq!(framing(&[0x20, 2, 0, 0]), Some("mqtt"));
        for other in [
            &b"{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[]}\n"[..],
            &[0x16, 3, 1, 0, 0x40, 1][..],
            b"SSH-2.0-OpenSSH_9.2\r\n",
            b"GET / HTTP/1.1\r\n",
            &[0x68, 4, 0x45, 0, 0, 0][..],
            &[0, 1, 0, 0, 0, 6, 1][..],
            &[],
        ] {
            assert_eq!(framing(other), None, "{other:?}");
        }
    }

    #[test]
    fn length_fields_at_their_extremes_never_panic_and_never_read_past_the_bytes() {
        // Modbus: the length field at 0, 1, 2, the largest allowed, one past it and the maximum,
        // with the bytes it claims present and absent.
        for len in [0u16, 1, 2, 253, 254, 255, u16::MAX] {
            let [hi, lo] = len.to_be_bytes();
            let head = [0, 1, 0, 0, hi, lo, 1, 3];
            let full: Vec<u8> = head
                .iter()
                .copied()
                .chain(std::iter::repeat_n(0, 300))
                .collect();
            let told = framing(&full) == Some("modbus-tcp");
            assert_eq!(told, (2..=254).contains(&len), "len {len}");
            assert_eq!(
                framing(&head),
                if len == 2 { Some("modbus-tcp") } else { None },
                "len {len}"
            );
        }
        // IEC 104: the APDU length from 0 to 255, with and without its bytes.
        for len in 0..=255u8 {
            let mut b = vec![0x68, len, 0x00, 0x00];
            let _ = framing(&b);
            b.resize(2 + usize::from(len), 0);
            let told = framing(&b) == Some("iec-104");
            assert_eq!(told, (5..=253).contains(&len), "len {len}");
        }
        // DNP3 and MQTT: every length byte, short and long buffers; MQTT's remaining length
        // with its continuation bit set in every byte.
        for len in 0..=255u8 {
            let _ = framing(&[0x05, 0x64, len]);
            let _ = framing(&[0x05, 0x64, len, 0, 0, 0, 0, 0, 0, 0]);
            let _ = framing(&[0x20, len, 0, 0]);
        }
        assert_eq!(
            framing(&[0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x04]),
            None
        );
        assert_eq!(framing(&[0x10, 0xff]), None);
    }
}
