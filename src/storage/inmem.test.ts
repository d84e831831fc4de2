import { exerciseStorage } from './conformance.ts';
import { InmemStorage } from './inmem.ts';

exerciseStorage('inmem', async () => new InmemStorage());
