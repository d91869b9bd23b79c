ws ={l.e/s >{TTPNTTTTTTTs ={l.e/s >{TTPTTTTTTTTTTTTTTTTTTT.e/s .e/s >s >{TovernighTTTTTTTTT5>{TTPre_fdip<D<<<nn
 /s >s >{TovernighTTTTTTT5TT>{TT/re_fdip<D<<<nn
hTTTTTTT5<<nn
 nn<=s/qs ={l.e/s >{TTPNTTTTTTTs ={l.e/s >{TTPTTTTTTTTTTTTTTTTTTT.e/s .e/s >s >{TovernighTTTTTTTTT5>{TTPre_fdip<D<<<nn
 /s >s >{TovernighTTTTTTT5TT>{TT/re_fdip<D<<<nn
hTTTTTTT5TT>{TTPre_fdip<D<<<nn
 nn<=s/quldow_more_fdipip<D<<<nn
 nn<=s/quldow_more_fdip<D<<eve    = "croT<D<<eve    = "croTTPPPPPPPPPPPPPPnn<=s/quldow_more_<nn
 nn<=s/qggggggggggggPPtarget_vPs >{TovernighTTTTTTT5TT>{TT/re_fdip<D<<<nn
hTTTTTTT5<<nn
 nn<=s/qs ={l.e/s >{TTPNTTTTTTTs ={l.e/s >{TTPTTTTTTTTTTTTTTTTTTT.e/s .e/s >s >{TovernighTTTTTTTTT5>{TTPre_fdip<D<<<nn
 /s >s >{TovernighTTTTTTT5TT>{TT/re_fdip<D<<<nn
hTTTTip<D<<<nn
hTTTTTTT5<<nn
 nn<=s/qs ={l.e/s >{TTPNTTTTTTTs ={l.e/s >{TTPTTTTTTTTTTTTTTTTTTT.e/s .e/s >s >{TovernighTTTTTTTTT5>{TTPre_fdip<D<<<nn
 /s >s >{TovernighTTTTTTT5TT>{TT/re_fdip<D<<<nn
hTTTTTTT5TT>{TTPre_fdip<D<<<nn
 nn<=s/quldow_more_fdipip<D<<<nn
 nn<=s/quldow_more_fdip<D<<eve    = "croT<D<<eve    = "croTTPPPPPPPPPPPPPPnn<=s/quldow_more_<nn
 nn<=s/qggggggggggggPPtarget_vPs >{TovernighTTTTTTT5TT>{TT/re_fdip<D<<<nn
hTTTTTTT5<<nn
 nn<=s/qs ={l.e/s >{TTPNTTTTTTTs ={l.e/s >{TTPTTTTTTTTTTTTTTTTTTT.e/s .e/s >s >{TovernighTTTTTTTTT5>{TTPre_fdip<D<<<nn
 /s >s >{TovernighTTTTTTT5TT>{TT/re_fdip<D<<<nn
hTTTTTTT5TT>{TTPre_fdip<D<<<nn
 nn<=s/quldow_more_fdipip<D<<<nn
 nn<=s/quldow_more_fdip<D<<eve    = "croT<D<<eve    = "croTTPPPPPPPPPPPPPPnn<=s/quldow_more_<nn
 nn<=s/qggggggggggggPPtarget_vPPPPPPPPggggggggggggPPtarget_vPPPPPPPPPPPPggggggggggggPPtarget_vPPPPPPPPPPPPPPPPTPTTT5TT>{TTPre_fdip<D<<<nn
 nn<=s/quldow_more_fdipip<D<<<nn
 nn<=s/quldow_more_fdip<D<<eve    = "croT<D<<eve    = "croTTPPPPPPPPPPPPPPnn<=s/quldow_more_<nn
 nn<=s/qggggggggggggPPtarget_vPPPPPPPPggggggggggggPPtarget_vPPPPPPPPPPPPggggggggggggPPtarget_vPPPPPPPPPPPPPPPPTPs 