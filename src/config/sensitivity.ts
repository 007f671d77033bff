// How sensitive a collection is: the levels shared by the pipeline's detectors, the response
// policy and the risk engine. Its own module so detector parameter schemas can use it without
// importing the pipeline schema they are part of.
import { z } from 'zod';

export const SENSITIVITIES = ['low', 'medium', 'high', 'critical'] as const;
export const sensitivitySchema = z.enum(SENSITIVITIES);
export type Sensitivity = (typeof SENSITIVITIES)[number];
