"""Physics-based B-mode simulator of in-plane needle insertions with exact per-frame ground truth.

Use ``simulate_clip(SimConfig(seed=...))`` or ``simulate_clip(random_config(rng, ...))``; each
frame is a ``SimFrame(image, truth)``. ``usguide simulate`` writes clips to disk,
``usguide.sources.simulator.SimulatorSource`` streams like a device,
``python -m usguide.sources.simulator_bench`` measures speed and
``python -m usguide.simulate.realism`` draws ``docs/realism.png`` (real frames beside simulated).

What is modelled:
    * Probes: linear (rectangle) and convex (fan of 30-100 degrees, radius 10-80 mm,
      scan-converted from beam space); depth 15-100 mm; mm_per_px = depth_mm / image height
      (convex: along the central beam). The image may sit inside the region with black margins:
      linear images of other aspect ratios, wide fans shorter than the region, off-centre fans.
    * Media: in vivo tissue, ex vivo meat (fibres, connective tissue, fat flecks), gel/agar/PVA
      phantoms (uniform speckle, inclusions) in a container with dark water outside, straight
      bright walls and floor, water baths; a bright probe-surface / coupling line along the top.
    * Speckle: complex Gaussian scatterers weighted by echogenicity, convolved with a Gaussian PSF
      narrow axially and wider laterally (widening away from the focus, per depth band),
      envelope-detected, log-compressed over a 48-62 dB dynamic range; depth attenuation
      imperfectly compensated by TGC; electronic (Rayleigh) noise; optional scanner-style
      speckle reduction. The speckle field is computed once per clip and warped for motion.
    * Tissue: skin, fat with septa, muscle with fibres, streaky connective tissue and lobules,
      fascia (thick bright lines, often oblique: the needle look-alike), bone surface (very bright
      line, shadow below), vessels/cysts (anechoic, bright front/back walls, posterior
      enhancement), tendons (fibrillar, hyperechoic). Excess attenuation is integrated along each
      beam, so shadows and enhancement follow the beam geometry (radial for convex probes).
    * Needle (gauge 14-27, 0-80 degrees, from left or right, entering at the region's edge or
      inside the image): advances, pauses, withdraws and redirects (pivoting at the skin
      puncture); specular echo falling with the beam incidence angle, from barely visible to
      saturated (blooming into the widest line in the picture); a double wall (front and back
      wall, lumen between) for thick needles; brighter or fading tip or a bright bevel;
      along-shaft brightness variation; reverberation copies at the needle-diameter (wall)
      spacing and a comet tail below the shaft, each optional; acoustic shadow; elevational
      offset and tilt so parts of the shaft (or all but the tip) drop out of the plane; clips
      with no needle. Or a scripted insertion (``SimConfig.script``, ``simulate/script.py``):
      the motion written out, and its true redirections, visibility, tip path and time to
      target in ``truth.json`` (``script_truth``).
    * Motion: hand jitter, breathing-like axial compression, probe slide (needle moves along).
    * Screen capture: the image pasted into a vendor-style screen (menus, text, depth ruler,
      logo, grey bars, clock) at 1024x768 or 1280x720 (BGR).
    * Acquisition artefacts: gain steps, dynamic-range change, downscale/upscale blur, JPEG.

Styles: ``SimConfig(style="train")`` (default) draws from the training ranges;
``style="heldout"`` from settings outside them (a beaded needle, unseen textures, fan shapes,
aspect ratios and screen layout), for generalisation tests. ``README.md`` tables both.

Ground truth: ``visible`` means at least 2 mm of shaft echo is 1.5x the local tissue echo or more;
``shaft_mask`` marks those shaft pixels (about the echo's axial width); ``tip``/``entry`` are the
distal/proximal ends of the visible shaft in full-frame pixels; ``angle_deg`` is the unsigned
shaft angle to the image x axis. A clip's first frames do not depend on ``n_frames`` (<= 600).

Not modelled: true wave propagation (no diffraction, refraction, phase aberration or
speed-of-sound errors), side lobes and grating lobes, multiple focal zones, harmonic imaging,
frequency-dependent attenuation of the spectrum, speckle decorrelation from out-of-plane tissue
motion (speckle only translates/compresses), beam steering or needle enhancement modes, needle
bending, bevel orientation, out-of-plane (cross-section) needle views, colour Doppler, real
anatomy (layers are random), vendor-specific post-processing and real vendor screen layouts.
"""

from usguide.simulate.clip import simulate_clip
from usguide.simulate.config import GroundTruth, SimConfig, SimFrame, random_config

__all__ = ["GroundTruth", "SimConfig", "SimFrame", "random_config", "simulate_clip"]
