#!/usr/bin/env python3
"""Generate a synthetic orders CSV for kpic's speed benchmarks.

Usage: gen_orders.py ROWS OUT.csv [--seed N]

    python3 bench/gen_orders.py 10000000 /tmp/orders.csv   # ~840 MB

The shape follows issue 4, part 8: order_id, customer_id (about ROWS/8 distinct
values, so ~1.25M per 10M rows), staff_id (200 distinct), amount (2 decimals),
paid_at (a datetime over 2024-2025), channel, refunded (bool), and a note that is
always quoted and sometimes holds commas and doubled quotes, so the reader's
quoted-field path is exercised on every row.  Output is deterministic for a
seed.  Never commit the output: write it under /tmp.
"""
import argparse
import random
import time

CHANNELS = ["app", "web", "store", "phone", "wechat", "partner"]
NOTES = [
    "", "gift", "repeat buyer", "coupon SPRING, 10% off", 'said "deliver after 6pm"',
    "pickup", "bulk order, 3 boxes", "会员日", 'size "L", colour red', "n/a",
]
# 2024-01-01 00:00:00 UTC as a Unix time, and the number of seconds in 2024-2025.
START = 1704067200
SPAN = 731 * 86400


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rows", type=int)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=20250501)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    customers = max(1, args.rows // 8)

    with open(args.out, "w", encoding="utf-8", newline="") as f:
        f.write("order_id,customer_id,staff_id,amount,paid_at,channel,refunded,note\n")
        batch = []
        for i in range(args.rows):
            t = time.gmtime(START + rng.randrange(SPAN))
            note = NOTES[rng.randrange(len(NOTES))].replace('"', '""')
            batch.append(
                "O%09d,C%08d,staff%03d,%d.%02d,%04d-%02d-%02d %02d:%02d:%02d,%s,%s,\"%s\"\n"
                % (i + 1, rng.randrange(customers), rng.randrange(200),
                   rng.randrange(5, 2000), rng.randrange(100),
                   t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                   CHANNELS[rng.randrange(len(CHANNELS))],
                   "true" if rng.random() < 0.05 else "false", note))
            if len(batch) == 100000:
                f.write("".join(batch))
                batch.clear()
        f.write("".join(batch))


if __name__ == "__main__":
    main()
