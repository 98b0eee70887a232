#!/usr/bin/env python3
"""Band candidates of docs/journal/session-10-bands.md: each form of the auto band's relative variance, calibrated by a
rule on the forecasting benchmark's held-out finals and scored with each corpus left out of the calibration.

    dotnet run -c Release --project bench/Anneal.Bench -- band-features . features.csv
    python3 bench/band_candidates.py features.csv pooled95 'F dis, Mmean, cv'     # or every90; no form: all of them

Columns of features.csv (bench/Anneal.Bench/BandFeatures.cs): own = the surest member's own variance, disagree = the
members' disagreement, d = the loss change past the fitted horizon, ratio = the forecast's last step / fitted horizon,
endsigned = each fitted run's mean log residual over its last tenth (Mmean = |their mean|, Mrms = their RMS),
cv = the stack's mean |log error| on the fitted runs' future (0 where not measured). Rules: pooled95 = the narrowest
median band covering >= 95 % of the calibration finals; every90 = ... covering >= 90 % of each calibration corpus.
Slow (pure Python, minutes per form).
"""
import csv, math, statistics as st, itertools, sys
rows=list(csv.DictReader(open(sys.argv[1])))
for r in rows:
    for k in r:
        if k not in('corpus','question','endsigned'):
            r[k]=float(r[k]) if r[k]!='' else float('nan')
    r['e']=abs(math.log(r['observed']/r['predicted']))
    es=[float(x) for x in r['endsigned'].split(';')]
    r['Mrms']=math.sqrt(sum(x*x for x in es)/len(es))
    r['Mmax']=max(abs(x) for x in es)
    r['Mmean']=abs(sum(es)/len(es))
    r['cvz']=r['cv'] if r['cv']==r['cv'] else 0.0
z=1.959963984540054
corpora=[]
for r in rows:
    if r['corpus'] not in corpora: corpora.append(r['corpus'])
def med(x):
    x=sorted(x);n=len(x);return x[n//2] if n%2 else (x[n//2-1]+x[n//2])/2
def make(form):
    def hw(r,p):
        return z*math.sqrt(form(r,p))
    return hw
G3=[[i/100 for i in range(5,81)],[j/100 for j in range(0,11)],[a/4 for a in range(0,13)]]
G3b=[[i/50 for i in range(2,41)],[a/4 for a in range(0,13)],[b/4 for b in range(0,13)]]
G4=[[i/50 for i in range(2,31)],[a/4 for a in range(0,13)],[j/100 for j in range(0,9)]]
G5=[[i/50 for i in range(2,31)],[a/4 for a in range(0,13)],[b/4 for b in range(0,5)],[j/100 for j in range(0,7)]]
forms={
 'N dis, Mmean, cv*lnr': (lambda r,p: p[0]**2*(r['disagree'])+p[1]**2*r['Mmean']**2+p[2]**2*(r['cvz']*max(0,math.log(r['ratio']))/math.log(2))**2, [[i/100 for i in range(5,61)],[a/8 for a in range(0,25)],[b/8 for b in range(0,13)]]),
 'O dis, Mmean, cv+cv*lnr': (lambda r,p: p[0]**2*(r['disagree'])+p[1]**2*r['Mmean']**2+p[2]**2*(r['cvz']*max(0.5,math.log(r['ratio'])/math.log(2)))**2, [[i/100 for i in range(5,61)],[a/8 for a in range(0,25)],[b/8 for b in range(0,13)]]),

 'K dis, Mmean': (lambda r,p: p[0]**2*(r['disagree'])+p[1]**2*r['Mmean']**2, [[i/100 for i in range(5,61)],[a/8 for a in range(0,25)]]),
 'L own+dis, Mmean': (lambda r,p: p[0]**2*(r['own']+r['disagree'])+p[1]**2*r['Mmean']**2, [[i/100 for i in range(5,61)],[a/8 for a in range(0,25)]]),
 'M dis, cv': (lambda r,p: p[0]**2*(r['disagree'])+p[1]**2*r['cvz']**2, [[i/100 for i in range(5,61)],[a/8 for a in range(0,25)]]),

 'H dis, Mmean, D': (lambda r,p: p[0]**2*(r['disagree'])+p[1]**2*r['Mmean']**2+p[2]**2*r['d']**2, G4),
 'I dis, Mmean, cv, D': (lambda r,p: p[0]**2*(r['disagree'])+p[1]**2*r['Mmean']**2+p[2]**2*r['cvz']**2+p[3]**2*r['d']**2, G5),
 'J dis, Mmean, lnratio': (lambda r,p: p[0]**2*(r['disagree'])+p[1]**2*r['Mmean']**2+p[2]**2*max(0,math.log(r['ratio']))**2, [[i/50 for i in range(2,31)],[a/4 for a in range(0,13)],[j/400 for j in range(0,9)]]),

 'E own+dis, Mmean, cv': (lambda r,p: p[0]**2*(r['own']+r['disagree'])+p[1]**2*r['Mmean']**2+p[2]**2*r['cvz']**2, G3b),
 'F dis, Mmean, cv': (lambda r,p: p[0]**2*(r['disagree'])+p[1]**2*r['Mmean']**2+p[2]**2*r['cvz']**2, G3b),
 'G own+dis, Mrms, cv': (lambda r,p: p[0]**2*(r['own']+r['disagree'])+p[1]**2*r['Mrms']**2+p[2]**2*r['cvz']**2, G3b),

 'B Mmax': (lambda r,p: p[0]**2*(r['own']+r['disagree'])+p[1]**2*r['d']**2+p[2]**2*r['Mmax']**2, G3),
 'B Mmean': (lambda r,p: p[0]**2*(r['own']+r['disagree'])+p[1]**2*r['d']**2+p[2]**2*r['Mmean']**2, G3),
 'B endwin': (lambda r,p: p[0]**2*(r['own']+r['disagree'])+p[1]**2*r['d']**2+p[2]**2*r['endwin']**2, G3),
 'B endlast': (lambda r,p: p[0]**2*(r['own']+r['disagree'])+p[1]**2*r['d']**2+p[2]**2*r['endlast']**2, G3),

 'A k(own+dis)+cD': (lambda r,p: p[0]**2*(r['own']+r['disagree'])+p[1]**2*r['d']**2, [[i/100 for i in range(10,101)],[j/200 for j in range(0,21)]]),
 'B +aMrms': (lambda r,p: p[0]**2*(r['own']+r['disagree'])+p[1]**2*r['d']**2+p[2]**2*r['Mrms']**2, [[i/100 for i in range(5,81)],[j/100 for j in range(0,11)],[a/4 for a in range(0,13)]]),
 'C k dis + aMrms + cD': (lambda r,p: p[0]**2*r['disagree']+p[1]**2*r['d']**2+p[2]**2*r['Mrms']**2, [[i/100 for i in range(5,81)],[j/100 for j in range(0,11)],[a/4 for a in range(0,13)]]),
 'D k own+ b dis + aM': (lambda r,p: p[0]**2*r['own']+p[1]**2*r['disagree']+p[2]**2*r['Mrms']**2, [[i/50 for i in range(0,41)],[j/50 for j in range(0,41)],[a/4 for a in range(0,13)]]),
}
def calibrate(rs,form,grid,rule):
    best=None
    for p in itertools.product(*grid):
        hws=[z*math.sqrt(form(r,p)) for r in rs]
        cov=sum(r['e']<=h for r,h in zip(rs,hws))
        if rule=='pooled95':
            if cov<0.95*len(rs): continue
        if rule=='every90':
            ok=True
            for c in set(r['corpus'] for r in rs):
                idx=[i for i,r in enumerate(rs) if r['corpus']==c]
                if sum(rs[i]['e']<=hws[i] for i in idx) < 0.9*len(idx)-1e-9: ok=False;break
            if not ok: continue
        m=med(hws)
        if best is None or m<best[0]-1e-12: best=(m,p)
    return best[1]
def report(name,form,grid,rule='pooled95'):
    p=calibrate(rows,form,grid,rule)
    print('==',name,'params',p)
    loco={}
    for c in corpora:
        pc=calibrate([r for r in rows if r['corpus']!=c],form,grid,rule)
        loco[c]=pc
    tot_in=tot_lo=0; allw_in=[];allw_lo=[]
    for c in corpora:
        g=[r for r in rows if r['corpus']==c]
        hin=[z*math.sqrt(form(r,p)) for r in g]; hlo=[z*math.sqrt(form(r,loco[c])) for r in g]
        ci=sum(r['e']<=h for r,h in zip(g,hin)); cl=sum(r['e']<=h for r,h in zip(g,hlo))
        tot_in+=ci; tot_lo+=cl; allw_in+=hin; allw_lo+=hlo
        print('  %-22s in %2d/%2d (%3.0f%%) w %.2f%%   loco %2d/%2d (%3.0f%%) w %.2f%%  p=%s'%(c,ci,len(g),100*ci/len(g),100*math.sinh(med(hin)),cl,len(g),100*cl/len(g),100*math.sinh(med(hlo)),loco[c]))
    print('  pooled in %d/%d w %.2f%%  loco %d/%d w %.2f%%'%(tot_in,len(rows),100*math.sinh(med(allw_in)),tot_lo,len(rows),100*math.sinh(med(allw_lo))))
rule=sys.argv[2]
sel=sys.argv[3:] or list(forms)
for n in sel:
    f,g=forms[n]; report(n,f,g,rule)
