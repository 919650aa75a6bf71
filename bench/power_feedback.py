#!/usr/bin/env python3
"""Inspections handed back (issue 18): on a realistic region, scan cold, hand back the outcomes
of a share of the flags (chosen at random with the seed, outcomes from the region's truth) with
`--inspections`, and compare false alarms and recall on the meters *not* inspected.

Usage: python3 bench/power_feedback.py SEED [SHARE]   (after bench/power_realistic.sh made the
region target/bench/realistic-1312-365-SEED; SHARE defaults to 0.15; MINEWATCH=PATH scans with
another build)
"""
import json,csv,sys,subprocess,random,tempfile,os
os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
s=sys.argv[1]; share=float(sys.argv[2]) if len(sys.argv)>2 else 0.15
D=f'target/bench/realistic-1312-365-{s}'
insp_path=os.path.join(tempfile.mkdtemp(), 'inspections.csv')
vis={}; kind={}
for r in csv.DictReader(open(f'{D}/truth.csv')):
    kind[r['meter_id']] = (r['site_kind'], r['miner_kind'] if r['mining']=='true' else '')
    # As `power scan --truth` counts (power::eval::read_truth): a miner that ran under 14 days
    # of the period, or one wired ahead of the meter, is no positive for the meter's data.
    vis[r['meter_id']] = r['mining']=='true' and r['miner_kind']!='stolen' and int(r['active_days'] or 0)>=14
miner_kinds = {k[1] for k in kind.values() if k[1]}
def run(extra):
    p=subprocess.run([os.environ.get('MINEWATCH','./target/release/minewatch'),'power','scan',f'{D}/readings.csv','--customers',f'{D}/customers.csv','--weather',f'{D}/weather.csv','--format','jsonl']+extra,capture_output=True,text=True)
    return [json.loads(l) for l in p.stdout.splitlines()], p.stderr
cold,_=run([])
flags=[d['meter_id'] for d in cold if d['suspected']]
rng=random.Random(int(s) if s.isdigit() else s); k=max(1,round(share*len(flags)))
insp=set(rng.sample(flags,k))
with open(insp_path,'w') as f:
    f.write('meter_id,date,mining\n')
    for m in sorted(insp): f.write(f'{m},2025-01-05,{str(vis[m]).lower()}\n')
warm,err=run(['--inspections',insp_path])
def m(rows):
    rest=[d for d in rows if d['meter_id'] not in insp]
    neg=[d for d in rest if not vis[d['meter_id']]]; pos=[d for d in rest if vis[d['meter_id']]]
    fp=sum(d['suspected'] for d in neg); tp=sum(d['suspected'] for d in pos)
    return 'FPR %.4f (%d/%d) recall %.3f (%d/%d) flagged %d'%(fp/len(neg),fp,len(neg),tp/len(pos),tp,len(pos),fp+tp)
print(f'seed {s}: {k} of {len(flags)} flags inspected ({sum(vis[x] for x in insp)} mining)')
print('  cold on the rest:', m(cold)); print('  warm on the rest:', m(warm))
print('  '+'\n  '.join(l for l in err.splitlines() if 'inspected' in l or 'learned' in l))
# By kind, on the rest: false alarms per kind of legitimate site and miners found per kind,
# cold -> after, the kinds where anything is flagged or missed (the issue asks both per kind).
def kinds(rows):
    out = {}
    for d in rows:
        t = kind[d['meter_id']]
        if d['meter_id'] in insp or (t[1] and not vis[d['meter_id']]):
            continue
        key = t[1] or t[0]
        n, f = out.get(key, (0, 0))
        out[key] = (n + 1, f + d['suspected'])
    return out
kc, kw = kinds(cold), kinds(warm)
miners = sorted(x for x in kc if x in miner_kinds)
sites = sorted(x for x in kc if x not in miner_kinds)
print('  false alarms on the rest, cold -> after: ' + ', '.join(
    f'{x} {kc[x][1]} -> {kw[x][1]} of {kc[x][0]}' for x in sites if kc[x][1] or kw[x][1]))
print('  miners found on the rest, cold -> after: ' + ', '.join(
    f'{x} {kc[x][1]} -> {kw[x][1]} of {kc[x][0]}' for x in miners))
