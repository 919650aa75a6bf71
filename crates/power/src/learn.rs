//! Learning from inspections: a logistic regression over the score's parts, fitted to the
//! outcomes of site visits (meter, date, mining yes or no), as State Grid Zhejiang feeds
//! inspection records back into its model (POWER.md §5, patent CN115292381A).
//!
//! Hand-written rather than taken from linfa: the model has a dozen inputs, Newton's method
//! fits it exactly in a few iterations, and the dependency would outweigh the sixty lines.

/// A fitted model: standardised inputs, weights, intercept.
#[derive(Clone, Debug, PartialEq)]
pub struct Logistic {
    mean: Vec<f64>,
    scale: Vec<f64>,
    /// Weights on the standardised inputs.
    pub weights: Vec<f64>,
    /// Intercept.
    pub intercept: f64,
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Solves `a x = b` for a small symmetric positive definite `a` (Gaussian elimination with
/// partial pivoting); `None` when singular.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for c in 0..n {
        let p = (c..n).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))?;
        if a[p][c].abs() < 1e-12 {
            return None;
        }
        a.swap(c, p);
        b.swap(c, p);
        let pivot = a[c].clone();
        for r in c + 1..n {
            let f = a[r][c] / pivot[c];
            for (x, p) in a[r][c..].iter_mut().zip(&pivot[c..]) {
                *x -= f * p;
            }
            b[r] -= f * b[c];
        }
    }
    let mut x = vec![0.0; n];
    for r in (0..n).rev() {
        let s: f64 = (r + 1..n).map(|k| a[r][k] * x[k]).sum();
        x[r] = (b[r] - s) / a[r][r];
    }
    Some(x)
}

impl Logistic {
    /// Fits by Newton's method with an L2 penalty `l2` on the weights (not the intercept).
    pub fn fit(x: &[Vec<f64>], y: &[bool], l2: f64) -> Option<Logistic> {
        let n = x.len();
        let d = x.first()?.len();
        if n < 4 || y.iter().all(|v| *v) || y.iter().all(|v| !*v) {
            return None;
        }
        let mean: Vec<f64> = (0..d)
            .map(|j| x.iter().map(|r| r[j]).sum::<f64>() / n as f64)
            .collect();
        let scale: Vec<f64> = (0..d)
            .map(|j| {
                let v = x.iter().map(|r| (r[j] - mean[j]).powi(2)).sum::<f64>() / n as f64;
                if v > 1e-12 { v.sqrt() } else { 1.0 }
            })
            .collect();
        let z: Vec<Vec<f64>> = x
            .iter()
            .map(|r| {
                let mut v: Vec<f64> = (0..d).map(|j| (r[j] - mean[j]) / scale[j]).collect();
                v.push(1.0);
                v
            })
            .collect();
        let mut w = vec![0.0; d + 1];
        for _ in 0..50 {
            let mut grad = vec![0.0; d + 1];
            let mut hess = vec![vec![0.0; d + 1]; d + 1];
            for (zi, yi) in z.iter().zip(y) {
                let p = sigmoid(zi.iter().zip(&w).map(|(a, b)| a * b).sum());
                let err = p - if *yi { 1.0 } else { 0.0 };
                let wgt = p * (1.0 - p);
                for a in 0..=d {
                    grad[a] += err * zi[a];
                    for b in 0..=d {
                        hess[a][b] += wgt * zi[a] * zi[b];
                    }
                }
            }
            for a in 0..d {
                grad[a] += l2 * w[a];
                hess[a][a] += l2;
            }
            let step = solve(hess, grad)?;
            let mut moved = 0.0f64;
            for (wa, s) in w.iter_mut().zip(&step) {
                *wa -= s;
                moved = moved.max(s.abs());
            }
            if moved < 1e-8 {
                break;
            }
        }
        let intercept = w.pop().unwrap_or(0.0);
        Some(Logistic {
            mean,
            scale,
            weights: w,
            intercept,
        })
    }

    /// Probability of mining for one input vector.
    pub fn predict(&self, x: &[f64]) -> f64 {
        let z: f64 = x
            .iter()
            .zip(&self.mean)
            .zip(&self.scale)
            .zip(&self.weights)
            .map(|(((v, m), s), w)| (v - m) / s * w)
            .sum::<f64>()
            + self.intercept;
        sigmoid(z)
    }
}

/// Precision among the top `k` of `scores` (higher first) against `labels`.
pub fn precision_at(scores: &[f64], labels: &[bool], k: usize) -> f64 {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let k = k.min(idx.len()).max(1);
    idx.iter().take(k).filter(|&&i| labels[i]).count() as f64 / k as f64
}

/// k-fold cross-validation: precision at `top` of the rule score against the learned model's,
/// each on the held-out folds only.
pub fn cross_validate(
    x: &[Vec<f64>],
    rule: &[f64],
    y: &[bool],
    folds: usize,
    top: usize,
) -> Option<(f64, f64)> {
    let n = x.len();
    if n < folds * 2 {
        return None;
    }
    let mut learned = vec![0.0; n];
    for f in 0..folds {
        let train: Vec<usize> = (0..n).filter(|i| i % folds != f).collect();
        let tx: Vec<Vec<f64>> = train.iter().map(|&i| x[i].clone()).collect();
        let ty: Vec<bool> = train.iter().map(|&i| y[i]).collect();
        let m = Logistic::fit(&tx, &ty, 1.0)?;
        for i in (0..n).filter(|i| i % folds == f) {
            learned[i] = m.predict(&x[i]);
        }
    }
    Some((precision_at(rule, y, top), precision_at(&learned, y, top)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separates_a_separable_problem() {
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..200 {
            let a = (i % 17) as f64 / 17.0;
            let b = (i % 7) as f64 / 7.0;
            x.push(vec![a, b]);
            y.push(a + 0.2 * b > 0.6);
        }
        let m = Logistic::fit(&x, &y, 0.01).unwrap();
        let right = x
            .iter()
            .zip(&y)
            .filter(|(xi, yi)| (m.predict(xi) > 0.5) == **yi)
            .count();
        assert!(right >= 190, "{right}");
        assert!(m.weights[0] > m.weights[1]);
    }

    #[test]
    fn refuses_one_class_data() {
        assert!(
            Logistic::fit(
                &[vec![1.0], vec![2.0], vec![3.0], vec![4.0]],
                &[true; 4],
                1.0
            )
            .is_none()
        );
    }

    #[test]
    fn precision_at_k() {
        assert_eq!(
            precision_at(&[0.9, 0.1, 0.8, 0.2], &[true, false, false, true], 2),
            0.5
        );
    }
}
