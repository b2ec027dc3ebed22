#!/usr/bin/env python3
"""Independent reference figures for the proposal appraisal (issue 15).

Written apart from the Swift code, with decimal arithmetic at 50 digits, from the method in docs/proposals.md:
one-off costs (uplifted for optimism bias) fall in year 0, the annual saving in each of years 1..N; the discount
factor of year t is 1/(1+r)^t for t <= 30 and DF(30)/(1+r_long)^(t-30) after; each year's present value is
rounded to the penny, half away from zero; NPV is their sum less the uplifted one-off cost. Run it to print the
figures Tests/DomainTests/ProposalAppraisalTests.swift expects.
"""
from decimal import Decimal as D, getcontext, ROUND_HALF_UP

getcontext().prec = 50
BIAS = {"fit_out": D(24), "network": D(44), "migration": D(200), "staff_transition": D(41), "other": D(24)}


def pence(x):
    return int(x.quantize(D(1), rounding=ROUND_HALF_UP))


def factor(t, r, r_long):
    short = min(t, 30)
    return 1 / ((1 + r / 100) ** short * (1 + r_long / 100) ** max(0, t - 30))


def appraise(name, baseline, proposed, one_off, years=10, r=D("3.5"), r_long=D("3.0")):
    saving = sum(baseline) - proposed
    uplifted = sum(c + pence(D(c) * BIAS[k] / 100) for k, c in one_off.items())
    npv = lambda share: -uplifted + sum(pence(D(saving) * share * factor(t, r, r_long)) for t in range(1, years + 1))
    payback = None if saving <= 0 else float((D(uplifted) / D(saving)).quantize(D("0.01"), rounding=ROUND_HALF_UP))
    print(f"{name}: saving={saving} one_off={sum(one_off.values())} uplifted={uplifted} payback={payback} "
          f"npv={npv(D(1))} low={npv(D('0.8'))} high={npv(D('1.2'))} df{years}={factor(years, r, r_long):.10f}")


costs = {"fit_out": 60_000_000, "network": 25_000_000, "migration": 15_000_000, "staff_transition": 10_000_000, "other": 5_000_000}
rooms = [120_000_000, 95_000_000, 110_000_000]
appraise("three rooms, 10 years", rooms, 240_000_000, costs)
appraise("three rooms, 60 years", rooms, 240_000_000, costs, years=60)
appraise("three rooms, 60 years at 5% then 4%", rooms, 240_000_000, costs, years=60, r=D(5), r_long=D(4))
appraise("costs more to run", rooms, 330_000_000, costs, years=10)
appraise("one year at 0%", [1_000_001], 0, {"fit_out": 333, "network": 0, "migration": 0, "staff_transition": 0, "other": 0}, years=1, r=D(0), r_long=D(0))
appraise("two rooms, 31 years", [48_250_075, 51_125_050], 70_000_000,
         {"fit_out": 12_345_678, "network": 0, "migration": 2_500_000, "staff_transition": 0, "other": 99}, years=31)
