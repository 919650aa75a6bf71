#!/usr/bin/env python3
"""The per-meter load features of `minewatch power scan`, written the way an analyst would in
pandas, to measure minewatch against it on the same file (docs/PERFORMANCE.md).

Usage: python3 bench/power_pandas.py readings.csv|readings.parquet > features.csv

Features per meter over the whole file (local time, +08:00 as written): median daily load
factor, night (00-06) over midday (10-16) mean, CV of daily energy, median intraday CV, weekend
over weekday daily energy, median share of readings within 5 % of the day's median, median daily
minimum power.
"""
import sys
import numpy as np
import pandas as pd

def main(path):
    if path.endswith(".parquet"):
        # Parquet (bench/csv_to_parquet.py): instants; local wall-clock time in China.
        df = pd.read_parquet(path)
        df["meter_id"] = df["meter_id"].astype("category")
        ts = df["timestamp"].dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    else:
        df = pd.read_csv(path, dtype={"meter_id": "category", "kwh": "float64"})
        # Local wall-clock time as written (the offset is the same for every row of a region).
        ts = pd.to_datetime(df["timestamp"].str.slice(0, 19), format="%Y-%m-%dT%H:%M:%S")
    step_h = (ts.iloc[1] - ts.iloc[0]).total_seconds() / 3600 if len(ts) > 1 else 1.0
    df["day"] = ts.dt.floor("D")
    df["hour"] = ts.dt.hour
    df["kw"] = df["kwh"] / step_h
    g = df.groupby(["meter_id", "day"], observed=True)["kw"]
    day = pd.DataFrame({
        "kwh": g.sum() * step_h,
        "mean": g.mean(),
        "max": g.max(),
        "min": g.min(),
        "std": g.std(ddof=0),
        "median": g.median(),
    })
    df = df.join(day["median"], on=["meter_id", "day"])
    df["in_band"] = (df["kw"] - df["median"]).abs() <= (df["median"].abs() * 0.05)
    day["mode_share"] = df.groupby(["meter_id", "day"], observed=True)["in_band"].mean()
    day["lf"] = day["mean"] / day["max"]
    day["cv"] = day["std"] / day["mean"]
    night = df[df["hour"] < 6].groupby("meter_id", observed=True)["kw"].mean()
    midday = df[(df["hour"] >= 10) & (df["hour"] < 16)].groupby("meter_id", observed=True)["kw"].mean()
    day = day.reset_index()
    day["weekend"] = day["day"].dt.day_of_week >= 5
    m = day.groupby("meter_id", observed=True)
    out = pd.DataFrame({
        "load_factor": m["lf"].median(),
        "daily_cv": m["kwh"].std(ddof=0) / m["kwh"].mean(),
        "intraday_cv": m["cv"].median(),
        "mode_share": m["mode_share"].median(),
        "floor_kw": m["min"].median(),
        "mean_kw": m["kwh"].mean() / 24.0,
    })
    we = day[day["weekend"]].groupby("meter_id", observed=True)["kwh"].mean()
    wd = day[~day["weekend"]].groupby("meter_id", observed=True)["kwh"].mean()
    out["weekend_weekday"] = we / wd
    out["night_midday"] = night / midday
    out.to_csv(sys.stdout, float_format="%.4f")

if __name__ == "__main__":
    main(sys.argv[1])
