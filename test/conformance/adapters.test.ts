import { ADAPTERS } from '../../adapters';
import { runAdapterConformance } from './adapter-suite';

describe.each(ADAPTERS.map((a) => [a.name, a] as const))('%s adapter conformance', (_name, adapter) => {
  runAdapterConformance(adapter);
});
