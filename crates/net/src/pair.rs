//! State kept per side of a flow (the two directions, client and server) in a `[T; 2]`, read by
//! side number. A side number is 0 or 1; any other is taken as 1, so no side number can index
//! past the pair (clippy's `indexing_slicing` holds here without an exception).

/// The element for side `i`.
pub fn of<T>(p: &[T; 2], i: usize) -> &T {
    let [a, b] = p;
    if i == 0 { a } else { b }
}

/// The element for side `i`, to change.
pub fn of_mut<T>(p: &mut [T; 2], i: usize) -> &mut T {
    let [a, b] = p;
    if i == 0 { a } else { b }
}

/// Side `i`'s element and the other side's, both to change.
pub fn both_mut<T>(p: &mut [T; 2], i: usize) -> (&mut T, &mut T) {
    let [a, b] = p;
    if i == 0 { (a, b) } else { (b, a) }
}

/// The other side's number.
pub fn other(i: usize) -> usize {
    usize::from(i == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_side_number_reads_inside_the_pair() {
        let mut p = [10, 20];
        assert_eq!((*of(&p, 0), *of(&p, 1), *of(&p, 7)), (10, 20, 20));
        *of_mut(&mut p, 0) += 1;
        let (mine, theirs) = both_mut(&mut p, 1);
        *mine += 2;
        assert_eq!(*theirs, 11);
        assert_eq!(p, [11, 22]);
        assert_eq!((other(0), other(1), other(5)), (1, 0, 0));
    }
}
