#!/usr/bin/env python3
"""The per-meter load features of `minewatch power scan`, written the way an analyst would in
pandas, to measure minewatch against it on the same file (docs/PERFORMANCE.md).

Usage: python3 bench/power_pandas.py readings.csv|readings.parquet [customers.csv] > features.csv

The features of crates/power/src/features.rs, over the same windows as minewatch's scorer
(crates/power/src/score.rs): the whole file, each calendar month with at least 20 usable days,
and the last 30 days when the meter has more than 60. A day is usable when at least 80 % of its
intervals were read. Per window: days used, mean power, median daily load factor, night
(00-06) over midday (10-16) mean power and their difference, CV of daily energy, median
intraday CV, weekend over weekday daily energy, median share of readings within 5 % of the
day's median, median daily minimum power, energy per 30 days, and, with the customer register,
mean power over contracted capacity and the percentile of the whole-file monthly energy among
the meter's tariff class in its transformer area (the class in the region when the area has
fewer than 10 such meters). Local time is the time as written (+08:00 for a generated region).
Step onsets are measured against `ruptures` separately (bench/changepoint.py). pandas' median
of an even count is the mean of the middle two where minewatch takes the upper one, so medians
differ slightly on some windows. The seconds spent reading (with parsing the timestamps) and
computing go to standard error.
"""
import sys
import time
import numpy as np
import pandas as pd

MIN_COVERAGE = 0.8


def read(path):
    if path.endswith(".parquet"):
        # Parquet (bench/csv_to_parquet.py): instants; local wall-clock time in China.
        df = pd.read_parquet(path)
        df["meter_id"] = df["meter_id"].astype("category")
        ts = df["timestamp"].dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    else:
        df = pd.read_csv(path, dtype={"meter_id": "category", "kwh": "float64"})
        # Local wall-clock time as written (the offset is the same for every row of a region).
        ts = pd.to_datetime(df["timestamp"].str.slice(0, 19), format="%Y-%m-%dT%H:%M:%S")
    return df, ts


def daily(df, ts):
    """One row per meter and local day: energy, coverage and the day's shape."""
    step_h = (ts.iloc[1] - ts.iloc[0]).total_seconds() / 3600 if len(ts) > 1 else 1.0
    df["day"] = ts.dt.floor("D")
    hour = ts.dt.hour
    df["kw"] = df["kwh"] / step_h
    keys = ["meter_id", "day"]
    g = df.groupby(keys, observed=True)["kw"]
    day = g.agg(["sum", "mean", "max", "min", "median", "count"])
    day["std"] = g.std(ddof=0)
    day["coverage"] = (day["count"] * step_h / 24.0).clip(upper=1.0)
    # Energy of the day, scaled up for the intervals not read.
    day["kwh"] = day["sum"] * step_h / day["coverage"]
    med = df[keys].join(day["median"], on=keys)["median"]
    df["in_band"] = (df["kw"] - med).abs() <= (med.abs() * 0.05)
    day["mode_share"] = df.groupby(keys, observed=True)["in_band"].mean()
    day["night_kw"] = df[hour < 6].groupby(keys, observed=True)["kw"].mean()
    day["midday_kw"] = df[(hour >= 10) & (hour < 16)].groupby(keys, observed=True)["kw"].mean()
    day["lf"] = day["mean"] / day["max"].where(day["max"] > 0)
    day["cv"] = day["std"] / day["mean"].where(day["mean"] > 0)
    day = day.reset_index()
    day["weekend"] = day["day"].dt.day_of_week >= 5
    day["month"] = day["day"].dt.to_period("M")
    return day


def window(day, keys):
    """The window features of every group of `keys` over its usable days."""
    used = day[day["coverage"] >= MIN_COVERAGE]
    m = used.groupby(keys, observed=True)
    out = m.agg(
        days=("kwh", "size"),
        mean_day=("kwh", "mean"),
        load_factor=("lf", "median"),
        intraday_cv=("cv", "median"),
        mode_share=("mode_share", "median"),
        floor_kw=("min", "median"),
        night=("night_kw", "mean"),
        midday=("midday_kw", "mean"),
    )
    out["std_day"] = m["kwh"].std(ddof=0)
    out["mean_kw"] = out["mean_day"] / 24.0
    out["monthly_kwh"] = out["mean_day"] * 30.0
    out["daily_cv"] = out["std_day"] / out["mean_day"].where(out["mean_day"] > 0)
    out["night_midday"] = out["night"] / out["midday"].where(out["midday"] > 0)
    out["night_excess_kw"] = out["night"] - out["midday"]
    we = used[used["weekend"]].groupby(keys, observed=True)["kwh"].mean()
    wd = used[~used["weekend"]].groupby(keys, observed=True)["kwh"].mean()
    out["weekend_weekday"] = we / wd.where(wd > 0)
    return out.drop(columns=["mean_day", "std_day", "night", "midday"])


def main(path, customers_path=None):
    started = time.perf_counter()
    df, ts = read(path)
    read_secs = time.perf_counter() - started
    day = daily(df, ts)
    del df, ts
    whole = window(day, ["meter_id"])
    months = window(day, ["meter_id", "month"])
    months = months[months["days"] >= 20]
    # The last 30 days of meters with more than 60.
    per_meter = day.groupby("meter_id", observed=True)["day"]
    n = per_meter.transform("size")
    recent = day[(n > 60) & (per_meter.cumcount(ascending=False) < 30)]
    last30 = window(recent, ["meter_id"])
    parts = [whole.assign(window="all")]
    parts.append(months.reset_index("month").assign(window=lambda x: x.pop("month").astype(str)))
    parts.append(last30.assign(window="last30"))
    out = pd.concat(parts).reset_index().set_index(["meter_id", "window"])
    if customers_path:
        cust = pd.read_csv(customers_path, dtype={"meter_id": str, "area_id": str})
        cust = cust.set_index("meter_id")
        cap = cust["capacity_kva"].where(cust["capacity_kva"] > 0)
        ids = out.index.get_level_values("meter_id").astype(str)
        out["capacity_use"] = out["mean_kw"].to_numpy() / cap.reindex(ids).to_numpy()
        # Percentile of the whole-file monthly energy within the class in the area, or within
        # the class when the area has fewer than 10 of it.
        w = whole[["monthly_kwh"]].copy()
        w.index = w.index.astype(str)
        w = w.join(cust[["tariff_class", "area_id"]])
        by_area = w.groupby(["tariff_class", "area_id"])["monthly_kwh"]
        by_class = w.groupby("tariff_class")["monthly_kwh"]
        # The share of the group below the meter, as minewatch counts it.
        def share_below(g):
            n = g.transform("count")
            return ((g.rank(method="min") - 1) / n).where(n >= 10)

        pct = share_below(by_area).fillna(share_below(by_class))
        out["class_percentile"] = pct.reindex(ids).to_numpy()
    features_secs = time.perf_counter() - started - read_secs
    out.to_csv(sys.stdout, float_format="%.4f")
    # As minewatch reports it (bench/power_speed.sh reads both).
    print(f"pandas: reading {read_secs:.2f} s, features {features_secs:.2f} s", file=sys.stderr)


if __name__ == "__main__":
    main(*sys.argv[1:3])
