/**
 * The Pixel Lab panel: loss curves, sample grids, the dataset, the mask inspector, and the NLL map. TF.js lives in a worker
 * (webview/worker.ts, started by worker-bridge.ts) so that hovering stays instant while a model trains; the extension
 * host writes the files. Every message from the host is validated (src/protocol.ts, host-bridge.ts) and a malformed
 * one is rejected, never acted on.
 *
 * The panel's state is one object (state.ts), changed only through `update` by the handlers of host and worker
 * messages (on-host.ts, on-worker.ts) and the user's actions (actions.ts). Each card (cards/) builds its DOM,
 * watches the slices of the state it shows, and renders them; this file puts the cards in their places.
 */
import { followBeliefs, workerRestarted } from './actions';
import { comparisonCard } from './cards/comparison';
import { controlsCard } from './cards/controls';
import { datasetCard } from './cards/dataset';
import { headerCard } from './cards/header';
import { inspectorCard } from './cards/inspector';
import { kernelsCard } from './cards/kernels';
import { lossCard } from './cards/loss';
import { nllMapCard } from './cards/nll-map';
import { samplesCard } from './cards/samples';
import { toHost, listenToHost } from './host-bridge';
import { onHostMessage } from './on-host';
import { onWorkerMessage } from './on-worker';
import { store, update } from './state';
import { el } from './ui/dom';
import { worker } from './worker-bridge';

document.getElementById('app')!.append(
  headerCard(),
  controlsCard(),
  el('div', { className: 'layout' }, lossCard(), comparisonCard(), samplesCard(), datasetCard(), inspectorCard(), nllMapCard(), kernelsCard()),
);

// No run on view yet: the page says what to do. Comparing: the cards of one run give way to the comparison.
store.watch(
  (s) => [s.view === null && s.compared === null, s.compared !== null, s.view?.runId],
  ([empty, comparing, runId]) => {
    document.body.classList.toggle('empty', empty);
    document.body.classList.toggle('comparing', comparing);
    if (runId !== undefined) document.body.dataset.runId = runId;
  },
);

// What the model believes at each pixel of the images on view is asked for as soon as there is a model.
followBeliefs();

await worker.start({ message: onWorkerMessage, died: (reason) => workerRestarted(reason, true) });
listenToHost(onHostMessage, (reason) => update({ error: `The panel ${reason}.` }));
toHost({ type: 'ready' });
