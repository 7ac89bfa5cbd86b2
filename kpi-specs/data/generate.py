#!/usr/bin/env python3
"""Generate the example CSV data for kpi-specs/user-ops.kpi.

Standard library only, fixed seeds: running it again rewrites every CSV byte for byte.

    python3 kpi-specs/data/generate.py          # writes the CSVs next to this script

The data covers 2024-01-01 .. 2025-12-31, so every 2025 period has a previous period and
a same period last year. It is a small simulation of a consumer app, not noise:

* users sign up every month (seasonal: Spring Festival dip, 618 and Double 11 peaks);
  paid and referral sign-ups are credited to a promoter, organic ones to nobody;
* each user is "active" or "dormant" each month (a Markov chain), and active users log
  in, order, top up their stored-value card and read articles; dormant users sometimes
  come back, which gives the churn-warning and recovery indicators something to find;
* orders from paid channels are credited to the user's promoter, organic orders to the
  user's operations owner;
* service tickets, mystery-shopper visits, data tasks and projects are generated per
  staff member with a per-person quality profile, so some people beat their targets
  and some miss them.

Each source uses its own random stream (seeded with "<SEED>-<name>"), so changing one
generator does not reshuffle the others.
"""
import calendar
import csv
import datetime as dt
import math
import os
import random

SEED = 20250501
OUT = os.path.dirname(os.path.abspath(__file__))
FIRST = dt.date(2024, 1, 1)
LAST = dt.date(2025, 12, 31)
MONTHS = [(y, m) for y in (2024, 2025) for m in range(1, 13)]

# month-of-year demand: Spring Festival dip, May Day, 618, National Day, Double 11
SEASON = {1: 0.90, 2: 0.82, 3: 1.00, 4: 0.98, 5: 1.10, 6: 1.22,
          7: 0.95, 8: 0.94, 9: 1.00, 10: 1.06, 11: 1.28, 12: 1.05}


def stream(name):
    """An independent, reproducible random stream for one source."""
    return random.Random(f"{SEED}-{name}")


def d(s):
    return dt.date.fromisoformat(s) if s else None


# --------------------------------------------------------------------------- roster
# id, name, role, base_bonus, start, end (exclusive), quota, profile
# profile keys: prod (volume), cpa (promotion cost per user), refund, quality (0..1)
STAFF = [
    ("s01", "张伟", "promotion", "6000.00", "2021-03-01", "", "34", dict(prod=1.25, cpa=28, refund=0.03)),
    ("s02", "王芳", "promotion", "5000.00", "2022-07-11", "", "28", dict(prod=1.00, cpa=33, refund=0.04)),
    ("s03", "李娜", "promotion", "5000.00", "", "", "22", dict(prod=0.85, cpa=39, refund=0.03)),
    ("s04", "刘洋", "promotion", "5000.00", "2023-02-20", "", "30", dict(prod=1.10, cpa=30, refund=0.04)),
    ("s05", "陈静", "promotion", "5000.00", "2023-09-04", "", "22", dict(prod=0.80, cpa=44, refund=0.18)),
    ("s06", "杨磊", "promotion", "5000.00", "2024-03-18", "", "22", dict(prod=0.95, cpa=35, refund=0.04)),
    ("s07", "赵敏", "promotion", "5000.00", "2024-07-01", "", "24", dict(prod=1.05, cpa=31, refund=0.03)),
    ("s08", "黄强", "operations", "8000.00", "2020-05-06", "", "", dict(quality=0.9)),
    ("s09", "周婷", "operations", "6000.00", "2021-11-15", "", "", dict(quality=0.7)),
    ("s10", "吴昊", "operations", "5000.00", "2022-04-01", "", "", dict(quality=0.5)),
    ("s11", "徐丽", "operations", "5000.00", "", "", "", dict(quality=0.6)),
    ("s12", "孙杰", "operations", "5000.00", "2023-06-19", "", "", dict(quality=0.3)),
    ("s13", "胡军", "operations", "5000.00", "2024-01-02", "", "", dict(quality=0.45)),
    ("s14", "朱琳", "content", "6000.00", "2021-08-09", "", "160", dict(prod=1.30, quality=0.8)),
    ("s15", "高峰", "content", "5000.00", "2022-03-14", "", "130", dict(prod=1.05, quality=0.6)),
    ("s16", "林雪", "content", "5000.00", "2023-01-03", "", "130", dict(prod=1.00, quality=0.4)),
    ("s17", "何欢", "content", "5000.00", "2023-10-16", "", "120", dict(prod=0.85, quality=0.7)),
    ("s18", "郭涛", "content", "5000.00", "2024-05-06", "", "110", dict(prod=0.80, quality=0.3)),
    ("s19", "马超", "content", "5000.00", "2025-05-12", "", "60", dict(prod=0.90, quality=0.5)),
    ("s20", "罗琴", "service", "6000.00", "2020-09-01", "", "", dict(quality=0.9)),
    ("s21", "梁宇", "service", "5000.00", "2022-02-21", "", "", dict(quality=0.6)),
    ("s22", "宋佳", "service", "5000.00", "2022-08-08", "", "", dict(quality=0.75)),
    ("s23", "郑凯", "service", "5000.00", "", "", "", dict(quality=0.35)),
    ("s24", "谢芸", "service", "5000.00", "2023-04-10", "2025-05-20", "", dict(quality=0.55)),
    ("s25", "韩冰", "service", "5000.00", "2024-02-26", "", "", dict(quality=0.45)),
    ("s26", "唐宁", "data_analysis", "8000.00", "2019-12-02", "", "", dict(quality=0.9)),
    ("s27", "冯帆", "data_analysis", "6000.00", "2021-05-17", "", "", dict(quality=0.65)),
    ("s28", "于洋", "data_analysis", "5000.00", "2023-03-06", "", "", dict(quality=0.4)),
    ("s29", "董晨", "data_analysis", "5000.00", "2022-06-13", "2025-03-01", "", dict(quality=0.6)),
    # a sales rep exported with the company roster, whom this spec does not score: an
    # empty role says so (a role the spec does not declare would be a warning)
    ("s30", "萧然", "", "5000.00", "2023-11-20", "", "", dict()),
]
PROFILE = {s[0]: s[7] for s in STAFF}
ROLE_STAFF = {}
for s in STAFF:
    ROLE_STAFF.setdefault(s[2], []).append(s[0])
EMPLOYED = {s[0]: (d(s[4]), d(s[5])) for s in STAFF}


def employed(sid, day):
    start, end = EMPLOYED[sid]
    return (start is None or day >= start) and (end is None or day < end)


# --------------------------------------------------------------------------- helpers
def month_bounds(y, m):
    return dt.date(y, m, 1), dt.date(y, m, calendar.monthrange(y, m)[1])


def rand_day(r, y, m, lo=None):
    first, last = month_bounds(y, m)
    if lo is not None and lo > first:
        first = lo
    return first + dt.timedelta(days=r.randint(0, (last - first).days))


def rand_time(r, day):
    """A datetime on `day`, weighted towards waking hours."""
    hour = r.choice([8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 20, 21, 21, 22, 23])
    return dt.datetime(day.year, day.month, day.day, hour, r.randint(0, 59), r.randint(0, 59))


def fmt_dt(t):
    return t.strftime("%Y-%m-%d %H:%M:%S")


def money(cents):
    return f"{cents // 100}.{cents % 100:02d}"


def poisson(r, lam):
    if lam <= 0:
        return 0
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= r.random()
        if p <= limit:
            return k
        k += 1


def pick_weighted(r, items, weights):
    return r.choices(items, weights=weights, k=1)[0]


def write(name, header, rows, encoding="utf-8"):
    path = os.path.join(OUT, name)
    with open(path, "w", encoding=encoding, newline="") as f:
        w = csv.writer(f, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        w.writerow(header)
        w.writerows(rows)
    return path


# --------------------------------------------------------------------------- channels
# (code, display name, group, paid). Some names contain commas: they must be quoted.
CHANNELS = [
    ("douyin_ads", "抖音,快手信息流", "付费投放", "true"),
    ("wechat_ads", "微信朋友圈,公众号广告", "付费投放", "true"),
    ("baidu_sem", "百度搜索推广", "付费投放", "true"),
    ("referral", "老带新分享", "裂变", "false"),
    ("offline", "线下门店(北京,上海)", "地推", "false"),
    ("app_store", "应用商店", "自然流量", "false"),
    ("mini_program", "微信小程序", "自然流量", "false"),
]
PAID = ["douyin_ads", "wechat_ads", "baidu_sem"]
SIGNUP_MIX = (["douyin_ads", "wechat_ads", "baidu_sem", "referral", "offline", "app_store", "mini_program"],
              [22, 20, 10, 15, 5, 18, 10])
PROMOTED = {"douyin_ads", "wechat_ads", "baidu_sem", "referral", "offline"}


def gen_channels():
    # exported from the ERP as it comes: GBK, Chinese header names, 是/否 for the flag
    # (the spec declares all three: user-ops.kpi, source channels)
    write("channels.csv", ["渠道编码", "渠道名称", "渠道分组", "是否付费"],
          [[code, name, group, "是" if paid == "true" else "否"]
           for code, name, group, paid in CHANNELS],
          encoding="gbk")


# --------------------------------------------------------------------------- staff
def gen_staff():
    write("staff.csv", ["id", "name", "role", "base_bonus", "start", "end", "quota"],
          [list(s[:7]) for s in STAFF])


# --------------------------------------------------------------------------- users & behaviour
class User:
    __slots__ = ("idx", "id", "signup", "channel", "promoter", "owner", "lam", "invited_by")


def promoters_on(day):
    return [s for s in ROLE_STAFF["promotion"] if employed(s, day)]


def gen_users():
    r = stream("users")
    users = []
    for i, (y, m) in enumerate(MONTHS):
        n = round(172 * (1 + 0.012 * i) * SEASON[m] * r.uniform(0.93, 1.07))
        for _ in range(n):
            u = User()
            day = rand_day(r, y, m)
            u.signup = rand_time(r, day)
            u.channel = pick_weighted(r, *SIGNUP_MIX)
            u.promoter = None
            if u.channel in PROMOTED:
                cands = promoters_on(day)
                u.promoter = pick_weighted(r, cands, [PROFILE[c]["prod"] for c in cands])
            u.invited_by = None
            u.lam = 0.0 if r.random() < 0.35 else r.uniform(0.25, 1.15)
            users.append(u)
    users.sort(key=lambda u: u.signup)
    ops = ROLE_STAFF["operations"]
    for i, u in enumerate(users):
        u.idx = i
        u.id = f"U{i + 1:05d}"
        u.owner = ops[i % len(ops)]
        if u.channel == "referral" and i > 20:
            u.invited_by = users[r.randrange(0, i)].id
    write("users.csv", ["user_id", "signed_up_at", "channel", "invited_by", "staff_id"],
          [[u.id, fmt_dt(u.signup), u.channel, u.invited_by or "", u.promoter or ""] for u in users])
    return users


def gen_shares(users):
    """One row per share; converted shares name the new user, the rest leave it empty."""
    r = stream("shares")
    rows = []
    for u in users:
        if u.invited_by:
            shared = (u.signup - dt.timedelta(hours=r.randint(1, 72))).date()
            rows.append((shared, u.invited_by, u.id, u.promoter))
    by_month = {}
    for u in users:
        by_month.setdefault((u.signup.year, u.signup.month), []).append(u)
    for (y, m) in MONTHS:
        pool = [u for ym, us in by_month.items() if ym <= (y, m) for u in us]
        for _ in range(r.randint(50, 80)):
            day = rand_day(r, y, m)
            cands = promoters_on(day)
            rows.append((day, r.choice(pool).id, None, r.choice(cands)))
    rows.sort(key=lambda t: (t[0], t[1], t[2] or ""))
    write("shares.csv", ["sharer_id", "new_user_id", "shared_at", "staff_id"],
          [[s, n or "", day.isoformat(), st] for day, s, n, st in rows])


def gen_behaviour(users):
    """Monthly active/dormant chain per user: logins, orders, recharges."""
    r = stream("behaviour")
    logins, orders, recharges = [], [], []
    active_by_month = {ym: [] for ym in MONTHS}
    buyers_by_month = {ym: [] for ym in MONTHS}
    for u in users:
        active = True
        start_ym = (u.signup.year, u.signup.month)
        for (y, m) in MONTHS:
            if (y, m) < start_ym:
                continue
            first_month = (y, m) == start_ym
            if not first_month:
                if active and r.random() < 0.16:
                    active = False
                elif not active and r.random() < 0.035:
                    active = True
            lo = u.signup.date() if first_month else None
            if not active:
                if r.random() < 0.03:
                    logins.append((rand_day(r, y, m, lo), u.id))
                continue
            active_by_month[(y, m)].append(u)
            days = {rand_day(r, y, m, lo) for _ in range(1 + (r.random() < 0.35) + (r.random() < 0.10))}
            logins.extend((day, u.id) for day in sorted(days))
            n = poisson(r, u.lam * SEASON[m])
            if n:
                buyers_by_month[(y, m)].append(u)
            for _ in range(n):
                day = rand_day(r, y, m, lo)
                t = rand_time(r, day)
                if first_month and t < u.signup:
                    t = u.signup + dt.timedelta(minutes=r.randint(5, 600))
                    if t.date() > month_bounds(y, m)[1]:
                        t = u.signup
                if r.random() < 0.40:
                    channel = u.channel if u.channel in PAID else r.choice(PAID)
                    staff = u.promoter if u.promoter and employed(u.promoter, t.date()) else None
                    if staff is None:
                        staff = r.choice(promoters_on(t.date()))
                else:
                    channel = pick_weighted(r, ["app_store", "mini_program", "offline"], [50, 35, 15])
                    staff = u.owner
                    if channel == "offline" and r.random() < 0.10:
                        staff = None          # walk-in order, no staff credited
                cents = max(990, int(round(math.exp(r.gauss(math.log(100), 0.5)) * 100)))
                cents = cents - cents % 10    # prices end in a round jiao
                refund_p = PROFILE[staff].get("refund", 0.035) if staff else 0.035
                orders.append((t, u.id, staff, cents, channel, r.random() < refund_p))
            if u.lam > 0 and r.random() < 0.055 + 0.05 * PROFILE[u.owner]["quality"]:
                day = rand_day(r, y, m, lo)
                amount = pick_weighted(r, [100, 200, 300, 500, 1000], [30, 30, 15, 18, 7])
                recharges.append((rand_time(r, day), u.id, u.owner, amount * 100))
    logins.sort()
    orders.sort(key=lambda o: (o[0], o[1]))
    recharges.sort(key=lambda x: (x[0], x[1]))
    write("logins.csv", ["user_id", "active_on"], [[uid, day.isoformat()] for day, uid in logins])
    write("orders.csv", ["order_id", "customer_id", "staff_id", "amount", "paid_at", "channel", "refunded"],
          [[f"O{i + 1:06d}", uid, st or "", money(c), fmt_dt(t), ch, "true" if rf else "false"]
           for i, (t, uid, st, c, ch, rf) in enumerate(orders)])
    write("recharges.csv", ["user_id", "staff_id", "amount", "recharged_at"],
          [[uid, st, money(c), fmt_dt(t)] for t, uid, st, c in recharges])
    return orders, active_by_month, buyers_by_month


# --------------------------------------------------------------------------- promotion spend
CAMPAIGNS = ["信息流拉新", "朋友圈广告-新人礼包", "搜索关键词投放", "达人合作,直播带货", "周末闪购", "新客首单立减"]
SEASONAL = {3: '春季"种草"计划', 4: '春季"种草"计划', 5: "五一焕新季,满199减30", 6: "618大促,跨店满减",
            10: "国庆黄金周", 11: "双11预售,定金膨胀", 12: "年终盛典"}


def gen_spend(users):
    r = stream("spend")
    credited = {}
    for u in users:
        if u.promoter:
            key = (u.promoter, u.signup.year, u.signup.month)
            credited[key] = credited.get(key, 0) + 1
    rows = []
    for (y, m) in MONTHS:
        for sid in ROLE_STAFF["promotion"]:
            n = credited.get((sid, y, m), 0)
            if n == 0:
                continue
            total = int(n * PROFILE[sid]["cpa"] * r.uniform(0.85, 1.15) * 100)
            k = r.randint(2, 4)
            cuts = sorted(r.sample(range(1, 100), k - 1))
            parts = [b - a for a, b in zip([0] + cuts, cuts + [100])]
            first = max(month_bounds(y, m)[0], EMPLOYED[sid][0] or FIRST)
            for p in parts:
                day = rand_day(r, y, m, first)
                name = SEASONAL[m] if m in SEASONAL and r.random() < 0.5 else r.choice(CAMPAIGNS)
                rows.append((day, sid, name, total * p // 100))
    rows.sort(key=lambda t: (t[0], t[1]))
    write("spend.csv", ["campaign", "staff_id", "cost", "spent_on"],
          [[c, sid, money(cost), day.isoformat()] for day, sid, c, cost in rows])


# --------------------------------------------------------------------------- content reads
def gen_reads(active_by_month, buyers_by_month):
    r = stream("reads")
    rows = []
    article = 0
    for i, (y, m) in enumerate(MONTHS):
        active = active_by_month[(y, m)]
        buyers = buyers_by_month[(y, m)]
        growth = (1 + 0.01 * i) * (0.9 + 0.1 * SEASON[m])
        for sid in ROLE_STAFF["content"]:
            first, last = month_bounds(y, m)
            start, end = EMPLOYED[sid]
            if (start and start > last) or (end and end <= first):
                continue
            p = PROFILE[sid]
            lo = max(first, start) if start else first
            share = ((last - lo).days + 1) / ((last - first).days + 1)
            for _ in range(max(1, round(r.randint(5, 8) * share))):
                article += 1
                day0 = rand_day(r, y, m, lo)
                for _ in range(poisson(r, 18 * p["prod"] * growth * r.uniform(0.75, 1.25))):
                    # better writers reach readers who go on to buy
                    pool = buyers if r.random() < 0.15 + 0.35 * p["quality"] else active
                    reader = r.choice(pool)
                    day = rand_day(r, y, m, day0)
                    rows.append((day, reader.id, f"A{article:04d}", sid))
    rows.sort()
    write("reads.csv", ["user_id", "article_id", "staff_id", "read_at"],
          [[uid, a, sid, day.isoformat()] for day, uid, a, sid in rows])


# --------------------------------------------------------------------------- service
SUMMARIES = ["物流慢,要求催件", "退款未到账", "发票抬头错误,需重开", '咨询会员"黑卡"权益', "修改收货地址",
             "商品破损", "优惠券无法使用", "账号登录异常", "储值卡余额查询", "投诉客服态度,要求回电"]


def gen_tickets(buyers_by_month):
    r = stream("tickets")
    rows = []
    for (y, m) in MONTHS:
        buyers = buyers_by_month[(y, m)]
        for sid in ROLE_STAFF["service"]:
            q = PROFILE[sid]["quality"]
            for _ in range(poisson(r, 20 * SEASON[m])):
                day = rand_day(r, y, m)
                if not employed(sid, day):
                    continue
                opened = rand_time(r, day)
                fast = r.random() < 0.72 + 0.25 * q
                delay = r.randint(0, 2) if fast else r.randint(3, 9)
                closed = opened.date() + dt.timedelta(days=delay)
                if closed > LAST or r.random() < 0.01:
                    closed = None                              # still open
                complaint = r.random() < 0.10 - 0.08 * q
                rating = ""
                if r.random() < 0.7:
                    base = 3.6 + 1.3 * q - (1.2 if complaint else 0)
                    rating = str(min(5, max(1, round(r.gauss(base, 0.7)))))
                summary = r.choice(SUMMARIES)
                rows.append([opened, r.choice(buyers).id, sid, closed, complaint, rating, summary])
    rows.sort(key=lambda t: (t[0], t[2]))
    write("tickets.csv", ["ticket_id", "customer_id", "staff_id", "opened_at", "closed_at",
                          "is_complaint", "rating", "summary"],
          [[f"T{i + 1:05d}", c, sid, fmt_dt(o), cl.isoformat() if cl else "", "yes" if cp else "no", rt, sm]
           for i, (o, c, sid, cl, cp, rt, sm) in enumerate(rows)])


def gen_mystery():
    r = stream("mystery")
    rows = []
    for (y, m) in MONTHS:
        for sid in ROLE_STAFF["service"]:
            q = PROFILE[sid]["quality"]
            for _ in range(2):
                day = rand_day(r, y, m)
                if not employed(sid, day):
                    continue
                score = f"{min(100.0, r.gauss(76 + 16 * q, 4)):.1f}"
                if r.random() < 0.02:
                    score = ""                                  # visit aborted, no score
                rows.append((rand_time(r, day), sid, score, r.choice(["第三方A", "第三方B", "区域督导"])))
    rows.sort()
    write("mystery_shopper.csv", ["staff_id", "visited_on", "audit_score", "auditor"],
          [[sid, fmt_dt(t), s, a] for t, sid, s, a in rows])


# --------------------------------------------------------------------------- data work
def gen_data_tasks():
    r = stream("data_tasks")
    rows = []
    n = 0
    for (y, m) in MONTHS:
        for sid in ROLE_STAFF["data_analysis"]:
            q = PROFILE[sid]["quality"]
            for _ in range(r.randint(6, 9)):
                due = rand_day(r, y, m)
                if not employed(sid, due):
                    continue
                n += 1
                late = r.random() < 0.22 - 0.2 * q
                delivered = due + dt.timedelta(days=r.randint(1, 4) if late else -r.randint(0, 3))
                t = rand_time(r, delivered)
                if delivered > LAST or r.random() < 0.01:
                    t = None                                    # not delivered (yet)
                checks = r.randint(20, 200)
                errors = 0 if r.random() < 0.72 + 0.26 * q else r.randint(1, 4)
                rows.append((f"D{n:05d}", sid, due, t, errors, checks))
    write("data_tasks.csv", ["task_id", "staff_id", "due", "delivered", "errors", "checks"],
          [[tid, sid, due.isoformat(), fmt_dt(t) if t else "", e, c] for tid, sid, due, t, e, c in rows])


def gen_projects():
    r = stream("projects")
    rows = []
    n = 0
    for (y, m) in MONTHS:
        for sid in ROLE_STAFF["data_analysis"]:
            q = PROFILE[sid]["quality"]
            for _ in range(r.choice([0, 1, 1, 2])):
                planned = rand_day(r, y, m)
                if not employed(sid, planned):
                    continue
                n += 1
                if r.random() < 0.45 + 0.45 * q:
                    actual = planned - dt.timedelta(days=r.randint(0, 4))
                else:
                    actual = planned + dt.timedelta(days=r.randint(1, 12))
                rows.append((f"P{n:04d}", sid, planned, actual if actual <= LAST else None))
    write("projects.csv", ["project_id", "staff_id", "planned_end", "actual_end"],
          [[p, sid, pl.isoformat(), a.isoformat() if a else ""] for p, sid, pl, a in rows])


def main():
    gen_staff()
    gen_channels()
    users = gen_users()
    gen_shares(users)
    _, active_by_month, buyers_by_month = gen_behaviour(users)
    gen_spend(users)
    gen_reads(active_by_month, buyers_by_month)
    gen_tickets(buyers_by_month)
    gen_mystery()
    gen_data_tasks()
    gen_projects()


if __name__ == "__main__":
    main()
