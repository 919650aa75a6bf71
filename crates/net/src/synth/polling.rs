//! Plaintext look-alikes of mining behaviour: industrial polling and MQTT, in their real
//! framing (the specifications named in `proto::plain`), for the behaviour detector's labelled
//! negatives. Timings follow how such systems are configured in the field: a SCADA master
//! polls event classes every few seconds and runs an integrity poll every minute or so, the
//! outstation reports events unsolicited (DNP3 application note AN2013-004b describes both);
//! IEC 104 stations send spontaneous measurements and test frames after 20 s idle (the t3
//! default of IEC 60870-5-104); MQTT clients publish telemetry and ping at the keep-alive
//! (60 s is the common default of client libraries).

use super::rng::Rng;
use super::tcp::Dir;

/// `(time since start in ns, direction, bytes)`.
pub type Timeline = Vec<(i64, Dir, Vec<u8>)>;

const SEC: i64 = 1_000_000_000;

/// CRC-16/DNP over `data`, as the link layer appends it (little-endian on the wire).
fn dnp3_crc(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in data {
        crc ^= u16::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xA6BC
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// One DNP3 link frame: the 10-byte header, then user data in blocks of 16 with their CRCs.
fn dnp3_frame(ctrl: u8, dst: u16, src: u16, user: &[u8]) -> Vec<u8> {
    let len = u8::try_from(5 + user.len().min(250)).unwrap_or(255);
    let mut f = vec![0x05, 0x64, len, ctrl];
    f.extend_from_slice(&dst.to_le_bytes());
    f.extend_from_slice(&src.to_le_bytes());
    let crc = dnp3_crc(&f);
    f.extend_from_slice(&crc.to_le_bytes());
    for block in user[..user.len().min(250)].chunks(16) {
        f.extend_from_slice(block);
        f.extend_from_slice(&dnp3_crc(block).to_le_bytes());
    }
    f
}

/// A DNP3 master polling an outstation in a loop: an event-class poll, the answer, then a
/// pause of 1 to 9 s (a master working through its points with variable response times, as
/// the poller measured from outside did), an integrity poll every twelfth round,
/// unsolicited event reports at random moments (mean 120 s), each confirmed.
pub fn dnp3(rng: &mut Rng, end: i64) -> Timeline {
    let (master, outstation) = (1u16, 10u16);
    let mut tl = Timeline::new();
    let mut seq = 0u8;
    let next = |s: &mut u8| {
        *s = (*s + 1) & 0x0f;
        *s
    };
    let mut t = SEC;
    let mut k = 0;
    while t < end {
        let s = next(&mut seq);
        let integrity = k % 12 == 0;
        let objects: &[u8] = if integrity {
            &[0x3c, 0x01, 0x06]
        } else {
            &[0x3c, 0x02, 0x06, 0x3c, 0x03, 0x06, 0x3c, 0x04, 0x06]
        };
        let mut req = vec![0xc0 | s, 0xc0 | s, 0x01];
        req.extend_from_slice(objects);
        tl.push((t, Dir::Up, dnp3_frame(0xc4, outstation, master, &req)));
        let n = if integrity {
            rng.between(120, 220)
        } else {
            rng.between(4, 40)
        };
        let mut resp = vec![0xc0 | s, 0xc0 | s, 0x81, 0x00, 0x00];
        resp.extend((0..n).map(|_| (rng.unit() * 256.0) as u8));
        tl.push((
            t + 40_000_000,
            Dir::Down,
            dnp3_frame(0x44, master, outstation, &resp),
        ));
        t += SEC + (rng.unit() * 8e9) as i64;
        k += 1;
    }
    let mut t = SEC;
    loop {
        t += rng.exp_ns(120.0);
        if t >= end {
            break;
        }
        let s = next(&mut seq);
        let mut uns = vec![0xc0 | s, 0xf0 | s, 0x82, 0x00, 0x00];
        uns.extend((0..rng.between(60, 150)).map(|_| (rng.unit() * 256.0) as u8));
        tl.push((t, Dir::Down, dnp3_frame(0x44, master, outstation, &uns)));
        tl.push((
            t + 30_000_000,
            Dir::Up,
            dnp3_frame(0xc4, outstation, master, &[0xc0 | s, 0xd0 | s, 0x00]),
        ));
    }
    tl
}

/// A Modbus/TCP master reading three register groups every 2, 5 and 15 s.
pub fn modbus(rng: &mut Rng, end: i64) -> Timeline {
    let mut tl = Timeline::new();
    let mut tid = 0u16;
    for (period, count) in [(2, 10u16), (5, 40), (15, 120)] {
        let mut t = SEC + (rng.unit() * 1e9) as i64;
        while t < end {
            tid = tid.wrapping_add(1);
            let mut req = tid.to_be_bytes().to_vec();
            req.extend_from_slice(&[0, 0, 0, 6, 1, 3, 0, 0]);
            req.extend_from_slice(&count.to_be_bytes());
            tl.push((t, Dir::Up, req));
            let bytes = count * 2;
            let mut resp = tid.to_be_bytes().to_vec();
            resp.extend_from_slice(&[0, 0]);
            resp.extend_from_slice(&(3 + bytes).to_be_bytes());
            resp.extend_from_slice(&[1, 3, u8::try_from(bytes.min(250)).unwrap_or(250)]);
            resp.extend((0..bytes).map(|_| (rng.unit() * 256.0) as u8));
            tl.push((t + 15_000_000, Dir::Down, resp));
            t += period * SEC;
        }
    }
    tl
}

/// An IEC 104 controlling station: spontaneous measurements from the station (mean 8 s),
/// acknowledged by S-frames every few; test frames after 20 s of quiet.
pub fn iec104(rng: &mut Rng, end: i64) -> Timeline {
    let mut tl: Timeline = vec![
        (SEC, Dir::Up, vec![0x68, 4, 0x07, 0, 0, 0]),
        (SEC + 20_000_000, Dir::Down, vec![0x68, 4, 0x0b, 0, 0, 0]),
    ];
    let (mut ns, mut since_ack) = (0u16, 0);
    let mut t = SEC;
    let mut last = t;
    loop {
        t += rng.exp_ns(8.0);
        if t >= end {
            break;
        }
        while t - last > 20 * SEC {
            last += 20 * SEC;
            tl.push((last, Dir::Up, vec![0x68, 4, 0x43, 0, 0, 0]));
            tl.push((last + 20_000_000, Dir::Down, vec![0x68, 4, 0x83, 0, 0, 0]));
        }
        // M_ME_NC_1 (short float measurement), cause 3 (spontaneous), one object.
        let send = (ns << 1).to_le_bytes();
        let mut i = vec![0x68, 0, send[0], send[1], 0, 0, 13, 1, 3, 0, 1, 0];
        i.extend_from_slice(&[rng.between(1, 200) as u8, 0, 0]);
        i.extend((0..5).map(|_| (rng.unit() * 256.0) as u8));
        i[1] = u8::try_from(i.len() - 2).unwrap_or(253);
        tl.push((t, Dir::Down, i));
        ns = ns.wrapping_add(1) & 0x7fff;
        since_ack += 1;
        if since_ack >= 4 {
            since_ack = 0;
            let recv = (ns << 1).to_le_bytes();
            tl.push((
                t + 50_000_000,
                Dir::Up,
                vec![0x68, 4, 0x01, 0, recv[0], recv[1]],
            ));
        }
        last = t;
    }
    tl
}

/// An MQTT 3.1.1 device: telemetry published at QoS 1 at random moments (mean 15 s), each
/// acknowledged, a ping after 60 s of quiet, a few commands from the broker.
pub fn mqtt(rng: &mut Rng, end: i64) -> Timeline {
    mqtt_device(rng, end, None)
}

/// An MQTT device as [`mqtt`] that has also subscribed to a topic the broker publishes to at
/// random moments (mean 90 s: set-points, tariffs, a fleet's state): unasked pushes between
/// answered publishes, a miner's rhythm. Half the devices subscribe at QoS 1 and acknowledge
/// each push (PUBACK), half at QoS 0 (the default of common client libraries) and say
/// nothing. Over TLS (port 8883), only the sizes and moments show.
pub fn mqtt_subscribed(rng: &mut Rng, end: i64) -> Timeline {
    mqtt_device(rng, end, Some(90.0))
}

fn mqtt_device(rng: &mut Rng, end: i64, pushes_mean_s: Option<f64>) -> Timeline {
    let connect = b"\x10\x18\x00\x04MQTT\x04\x02\x00\x3c\x00\x0csensor-00172".to_vec();
    let mut tl: Timeline = vec![
        (SEC, Dir::Up, connect),
        (SEC + 20_000_000, Dir::Down, vec![0x20, 2, 0, 0]),
    ];
    let publish = |id: u16, topic: &[u8], payload: usize, rng: &mut Rng| {
        let mut p = vec![0x32, 0];
        p.extend_from_slice(&u16::try_from(topic.len()).unwrap_or(0).to_be_bytes());
        p.extend_from_slice(topic);
        p.extend_from_slice(&id.to_be_bytes());
        p.extend((0..payload).map(|_| b'0' + (rng.unit() * 10.0) as u8));
        p[1] = u8::try_from(p.len() - 2).unwrap_or(127);
        p
    };
    let mut t = SEC;
    let mut last = t;
    let mut id = 1u16;
    loop {
        t += rng.exp_ns(15.0);
        if t >= end {
            break;
        }
        while t - last > 60 * SEC {
            last += 60 * SEC;
            tl.push((last, Dir::Up, vec![0xc0, 0]));
            tl.push((last + 20_000_000, Dir::Down, vec![0xd0, 0]));
        }
        tl.push((t, Dir::Up, publish(id, b"site/7/meter", 90, rng)));
        let ack = id.to_be_bytes();
        tl.push((t + 20_000_000, Dir::Down, vec![0x40, 2, ack[0], ack[1]]));
        id = id.wrapping_add(1).max(1);
        last = t;
    }
    if let Some(mean) = pushes_mean_s {
        let qos1 = rng.unit() < 0.5;
        let mut t = 2 * SEC;
        let mut id = 0x2000u16;
        loop {
            t += rng.exp_ns(mean);
            if t >= end {
                break;
            }
            let n = rng.between(40, 160);
            let mut p = publish(id, b"fleet/tariff", n, rng);
            if qos1 {
                let ack = id.to_be_bytes();
                tl.push((t + 20_000_000, Dir::Up, vec![0x40, 2, ack[0], ack[1]]));
            } else if let Some(h) = p.first_mut() {
                // QoS 0: no packet identifier and no acknowledgement.
                *h = 0x30;
            }
            tl.push((t, Dir::Down, p));
            id = id.wrapping_add(1);
        }
    }
    for k in 0..rng.between(1, 4) {
        let at = SEC * rng.between(30, ((end / SEC).max(40) - 5) as usize) as i64;
        tl.push((
            at,
            Dir::Down,
            publish(0x4000 + k as u16, b"site/7/cmd", 200, rng),
        ));
    }
    tl
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_first_message_is_told_by_its_framing() {
        let mut rng = Rng::new(1);
        let end = 600 * SEC;
        for (name, tl) in [
            ("dnp3", dnp3(&mut rng, end)),
            ("modbus-tcp", modbus(&mut rng, end)),
            ("iec-104", iec104(&mut rng, end)),
            ("mqtt", mqtt(&mut rng, end)),
        ] {
            let mut sorted = tl.clone();
            sorted.sort_by_key(|m| m.0);
            for dir in [Dir::Up, Dir::Down] {
                let first = sorted.iter().find(|m| m.1 == dir).unwrap();
                assert_eq!(
                    crate::proto::plain::framing(&first.2),
                    Some(name),
                    "{dir:?}"
                );
            }
            assert!(sorted.len() > 40, "{name}: {}", sorted.len());
        }
    }

    #[test]
    fn the_dnp3_crc_is_the_standards() {
        // The link header of a reset-link frame from the DNP3 specification's examples:
        // 05 64 05 C0 01 00 00 04, CRC E9 21.
        assert_eq!(
            dnp3_crc(&[0x05, 0x64, 0x05, 0xc0, 0x01, 0x00, 0x00, 0x04]).to_le_bytes(),
            [0xe9, 0x21]
        );
    }
}
