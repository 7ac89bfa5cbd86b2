"""The ceiling is a bound, never an estimate: on random data (orders with refunds,
members joining and leaving mid-month, every role form: capped and linear scales, own
points with min/max and if, lower-is-better targets, prorated targets, missing skip,
gates), no statement of `kpic score` over a year lies outside what
`kpic check --ceiling --roster` says its role can pay, for several seeds. Run:
test_ceiling_property.py KPIC"""
import json, os, random, sys, tempfile
from decimal import Decimal

from expect import check, finish, kpic_runner

score = kpic_runner("score")
check_cmd = kpic_runner("check")

SPEC = """period month
currency "CNY"

source orders "orders.csv" {
  staff_id   text   staff
  customer   text
  amount     money
  complaint  bool
  paid_at    date   time
}

staff "staff.csv" {
  id          text
  name        text
  role        text
  base_bonus  money
  quota       money
  start       date
  end         date
}

indicator revenue money per staff = sum(orders.amount)
indicator n_orders count per staff = count(orders)
indicator buyers count per staff = distinct(orders.customer)
indicator complaints percent per staff = count(orders where complaint) / n_orders
indicator aov money per staff = revenue / n_orders

scale standard {
  [0%, 60%)     -> 0
  [60%, 100%)   -> 60 .. 100
  [100%, 150%)  -> 100 .. 150
  [150%, inf)   -> 150
}

scale adjust {
  (-inf, 60)  -> -50%
  [60, 80)    -> -20% .. 0%
  [80, 100)   -> 0%
  [100, 120)  -> 0% .. 20%
  [120, inf)  -> 30%
}

role sales {
  kpi revenue   weight 50%  target >= staff.quota * employed
  kpi n_orders  weight 30%  target >= 6
  kpi buyers    weight 20%  target >= 4  points min(achievement * 100, 130)
  points standard
  gate complaints <= 30%
  bonus staff.base_bonus * (1 + adjust(score)) * employed
}

role service {
  kpi complaints  weight 60%  target <= 10%
  kpi aov         weight 40%  target >= 50  points if achievement >= 1 then 100 else max(achievement * 100, 20)
  points standard
  missing skip
  bonus staff.base_bonus * score / 150
}

role flat {
  kpi n_orders  weight 70%  target >= 3
  kpi revenue   weight 30%  target >= 1000
  points standard
  bonus staff.base_bonus * employed + 100
}
"""


def write_data(folder, rng):
    staff = []
    with open(os.path.join(folder, "staff.csv"), "w", encoding="utf-8") as f:
        f.write("id,name,role,base_bonus,quota,start,end\n")
        for i in range(24):
            role = rng.choice(["sales", "service", "flat", "sales", "none"])
            base = "%d.%02d" % (rng.randint(500, 9000), rng.randint(0, 99))
            quota = str(rng.choice([0, 500, 2000, 10000]))
            start = "2025-%02d-%02d" % (rng.randint(1, 6), rng.randint(1, 28)) if rng.random() < 0.3 else ""
            end = "2025-%02d-%02d" % (rng.randint(7, 12), rng.randint(1, 28)) if rng.random() < 0.2 else ""
            staff.append("s%02d" % i)
            f.write("s%02d,N%d,%s,%s,%s,%s,%s\n" % (i, i, "" if role == "none" else role, base, quota, start, end))
    with open(os.path.join(folder, "orders.csv"), "w", encoding="utf-8") as f:
        f.write("staff_id,customer,amount,complaint,paid_at\n")
        for _ in range(rng.randint(200, 1500)):
            who = rng.choice(staff)
            amount = rng.randint(-300, 2500) if rng.random() < 0.9 else -rng.randint(1, 5000)
            f.write("%s,c%d,%d.%02d,%s,2025-%02d-%02d\n" % (
                who, rng.randint(1, 40), amount, rng.randint(0, 99), rng.choice(["true", "false", "false"]),
                rng.randint(1, 12), rng.randint(1, 28)))


def dec(v):
    return None if v is None else Decimal(str(v))


def run_seed(seed):
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as folder:
        spec = os.path.join(folder, "spec.kpi")
        with open(spec, "w", encoding="utf-8") as f:
            f.write(SPEC)
        write_data(folder, rng)
        c = check_cmd(spec, "--ceiling", "--roster", "--format", "json")
        if not check(c.returncode == 0, "seed %d: check --ceiling exit %d: %s" % (seed, c.returncode, c.stderr[:400])):
            return 0
        ceiling = {r["role"]: r for r in json.loads(c.stdout)["ceiling"]["roles"]}
        for role in ("sales", "service", "flat"):
            check(ceiling[role]["bonus"]["bounded_above"], "seed %d: role %s has a bounded bonus" % (seed, role))
        s = score(spec, "--period", "2025-01..2025-12", "--format", "json")
        if not check(s.returncode == 0, "seed %d: score exit %d: %s" % (seed, s.returncode, s.stderr[:400])):
            return 0
        result = json.loads(s.stdout)
        statements = result["statements"] if isinstance(result, dict) else result
        seen = 0
        for st in statements:
            bounds = ceiling[st["role"]]
            b, sc = dec(st["bonus"]), dec(st["score"])
            lo, hi = dec(bounds["bonus"]["min"]), dec(bounds["bonus"]["max"])
            if b is not None:
                check(hi is None or b <= hi, "seed %d: %s %s bonus %s above the ceiling %s" % (seed, st["period"], st["staff_id"], b, hi))
                check(lo is None or b >= lo, "seed %d: %s %s bonus %s below the floor %s" % (seed, st["period"], st["staff_id"], b, lo))
                seen += 1
            slo, shi = dec(bounds["score"]["min"]), dec(bounds["score"]["max"])
            if sc is not None:   # the score is shown to 2 places
                check(shi is None or sc <= shi + Decimal("0.005"), "seed %d: %s score %s above %s" % (seed, st["staff_id"], sc, shi))
                check(slo is None or sc >= slo - Decimal("0.005"), "seed %d: %s score %s below %s" % (seed, st["staff_id"], sc, slo))
        return seen


def main():
    total = sum(run_seed(seed) for seed in range(6))
    check(total > 300, "enough statements with a bonus were compared (%d)" % total)
    return finish("ceiling property: %d statements within their role's bounds" % total)


if __name__ == "__main__":
    sys.exit(main())
