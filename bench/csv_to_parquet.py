#!/usr/bin/env python3
"""Writes a readings CSV (`meter_id,timestamp,kwh`, timestamps with offset) as Parquet the way a
data platform would: meter as text, timestamp as a UTC timestamp[s] tagged +08:00, kWh as
double, Snappy, row groups of a million rows. For the Parquet figures in docs/PERFORMANCE.md.

Usage: python3 bench/csv_to_parquet.py readings.csv readings.parquet   (needs pyarrow)
"""
import sys
import pyarrow as pa
import pyarrow.csv as pv
import pyarrow.parquet as pq

def main(src, dst):
    schema = pa.schema([("meter_id", pa.string()), ("timestamp", pa.timestamp("s", tz="+08:00")), ("kwh", pa.float64())])
    t = pv.read_csv(src, convert_options=pv.ConvertOptions(column_types={
        "meter_id": pa.string(), "timestamp": pa.timestamp("s", tz="UTC"), "kwh": pa.float64()}))
    t = t.set_column(1, "timestamp", t.column("timestamp").cast(pa.timestamp("s", tz="+08:00")))
    pq.write_table(t.cast(schema), dst, compression="snappy", row_group_size=1_000_000)

if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
