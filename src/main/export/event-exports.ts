/**
 * Exports of captured events by query: the rows come from the engine's event listing
 * (decorated like the live log), the writing from ExportService.
 */
import type { CapturedEvent, ExportProgress } from '../../shared/contract'
import { ExportService, type ExportDestination, type ExportFormat } from './export-service'

export interface ExportRows {
  total: number
  rows: Iterable<CapturedEvent>
}

export class EventExports<Query> {
  private readonly service: ExportService

  constructor(
    private readonly rowsFor: (query: Query) => ExportRows,
    report: (progress: ExportProgress) => void,
  ) {
    this.service = new ExportService(report)
  }

  /** Starts writing the query's rows, oldest first; progress is reported as it goes. */
  start(query: Query, format: ExportFormat, destination: ExportDestination): string {
    return this.service.start(this.rowsFor(query), format, destination)
  }

  cancel(exportId: string): boolean {
    return this.service.cancel(exportId)
  }
}
