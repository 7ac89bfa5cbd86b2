#!/usr/bin/env python3
"""Generates a large, valid spec for timing `kpic check`: N indicators and N/100 roles
over a handful of sources, with sets, scales, windows, previous()/last_year() and
per-staff grain mixed in the way real specs mix them.

usage: bench/gen_spec.py INDICATORS OUT.kpi      (roles = max(1, INDICATORS // 100))
"""
import sys

n = int(sys.argv[1])
roles = max(1, n // 100)
out = open(sys.argv[2], "w", encoding="utf-8")
w = out.write
w('period month\ncurrency "CNY"\n\n')
w('source orders "orders.csv" {\n  order_id text\n  customer_id text\n  staff_id text staff\n'
  '  amount money\n  paid_at date time\n  channel text\n  refunded bool\n}\n\n')
w('source tickets "tickets.csv" {\n  ticket_id text\n  staff_id text staff\n'
  '  opened_at date time\n  rating int\n  is_complaint bool\n}\n\n')
w('staff "staff.csv" {\n  id text\n  name text\n  role text\n  base_bonus money\n'
  '  start date\n  end date\n  quota int\n}\n\n')
w('set buyers = orders.customer_id\n\n')
w('set new_customers = orders.customer_id over all time having min(paid_at) in period\n\n')
w('scale standard {\n  [0%, 60%) -> 0\n  [60%, 100%) -> 60 .. 100\n'
  '  [100%, 150%) -> 100 .. 150\n  [150%, inf) -> 150\n}\n\n')
w('scale adjust {\n  [0, 60) -> -50%\n  [60, 80) -> -20%\n  [80, 100) -> 0%\n'
  '  [100, 120) -> 10%\n  [120, inf) -> 20%\n}\n\n')

forms = [
    ('count', 'count(orders where not refunded)'),
    ('money', 'sum(orders.amount where channel in ("app", "web"))'),
    ('count', 'distinct(orders.customer_id having count() >= 2)'),
    ('money', 'avg(orders.amount over last 3 months)'),
    ('count', 'count(tickets where is_complaint)'),
    ('number', 'avg(tickets.rating over year to date)'),
    ('count', 'distinct(orders.customer_id where customer_id in new_customers)'),
    ('money', 'sum(orders.amount) - previous(sum(orders.amount))'),
]
for i in range(n):
    unit, expr = forms[i % len(forms)]
    if i % len(forms) == 7 and i >= 8:
        expr = f'sum(orders.amount) - last_year(sum(orders.amount))'
    # every tenth indicator is a ratio of two earlier ones of the same unit
    if i % 10 == 9 and i >= 16:
        a, b = i - 8, i - 16
        unit, expr = 'percent', f'if k{b} > 0 then k{a} / k{b} else 0'
    w(f'indicator k{i} "指标{i}" {unit} per staff = {expr}\n\n')

for r in range(roles):
    base = r * (n // roles)
    picks = [base + j for j in (0, 1, 4)]
    w(f'role r{r} "岗位{r}" {{\n')
    w(f'  kpi k{picks[0]} weight 40% target >= staff.quota\n')
    w(f'  kpi k{picks[1]} weight 30% target >= 10000\n')
    w(f'  kpi k{picks[2]} weight 30% target <= 5\n')
    w('  points standard\n')
    w(f'  gate k{picks[0]} >= 1\n')
    w('  bonus staff.base_bonus * (1 + adjust(score))\n}\n\n')
out.close()
