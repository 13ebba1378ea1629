"""The console scripts of the codes ``mlpgen setup`` makes, by their old module (before issue 16):
:mod:`.fitsnap_runner` (``mlpgen-fitsnap``) and :mod:`.pacemaker_runner` (``mlpgen-pacemaker``)."""

from .fitsnap_runner import *  # noqa: F403
from .fitsnap_runner import fitsnap_main  # noqa: F401
from .pacemaker_runner import *  # noqa: F403
from .pacemaker_runner import AceStoppingRule, pacemaker_main  # noqa: F401
